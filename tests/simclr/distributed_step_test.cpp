// The point of distributed SimCLR: K processes with B samples each train exactly like one process
// with the K*B samples. Each rank runs three LARS steps of a small SimCLR model with SyncBN on its
// shard (distributed NT-Xent over the global batch, gradients averaged in buckets) and, beside
// it, the one-process reference on the whole global batch (SyncBN over a world of one, the fused
// NT-Xent); losses, gradients and parameters must agree within 1e-5 of their own size. The
// activations are f64 (the master weights and the LARS update stay f32): in f32 the two runs'
// different summation orders alone differ by up to 1e-4 here, as tiny batch-norm batches amplify
// rounding, which would hide a real error behind the tolerance. Under ctest's 1-rank entry the
// two runs see the same data.
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "dist/all_gather.h"
#include "dist/dist_test_util.h"
#include "dist/grad_bucketer.h"
#include "kernels/augment.h"
#include "kernels/nt_xent.h"
#include "simclr/model.h"
#include "simclr/optimizer.h"

namespace simclr {

namespace {

std::unique_ptr<SimCLRModel> small_model() {
  ResNetConfig encoder;
  encoder.in_channels = 1;
  encoder.base_width = 4;
  encoder.small_stem = true;
  ProjectionHeadConfig head;
  head.out_dim = 16;
  Generator gen(11);
  return std::make_unique<SimCLRModel>(encoder, head, &gen);
}

// max |a - b| relative to max |b| (at least 1e-3): fp32 sums in a different order (sharded loss,
// the SyncBN composition) differ by rounding relative to the values' own size.
double relative_diff(const Tensor& a, const Tensor& b) {
  const auto x = to_vector<float>(contiguous(a)), y = to_vector<float>(contiguous(b));
  double diff = 0, scale = 1e-3;
  for (size_t i = 0; i < x.size(); ++i) {
    diff = std::max(diff, std::abs(double{x[i]} - y[i]));
    scale = std::max(scale, std::abs(double{y[i]}));
  }
  return diff / scale;
}

}  // namespace

TEST_CASE("K ranks x B samples train like 1 process x K*B: 3 LARS steps with SyncBN",
          "[simclr][mpi]") {
  ProcessGroup& group = test::test_group();
  const int64_t world = group.world_size(), rank = group.rank(), b = 5, n = b * world;
  std::mt19937 rng(3);
  std::vector<uint8_t> pixels(static_cast<size_t>(n * 12 * 12));
  for (auto& p : pixels) p = static_cast<uint8_t>(rng() % 256);
  const Tensor images = from_vector(pixels, Shape{n, 12, 12, 1});
  std::vector<int64_t> all(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) all[static_cast<size_t>(i)] = 100 + i;
  const Tensor idx_all = from_vector(all, Shape{n});
  const Tensor idx_mine = contiguous(slice(idx_all, 0, rank * b, (rank + 1) * b));
  const Tensor images_mine = contiguous(slice(images, 0, rank * b, (rank + 1) * b));
  AugmentPolicy policy;
  policy.out_h = policy.out_w = 12;
  policy.blur = false;

  auto reference = small_model();
  auto distributed = small_model();
  // The reference is one process with SyncBN on, as in the trainer with dist.sync_bn: the same
  // batch-norm formula over a world of one.
  enable_sync_batch_norm(*reference, [](const Tensor& t) { return t; });
  enable_sync_batch_norm(*distributed,
                         [&group](const Tensor& t) { return all_reduce_with_grad(group, t); });
  OptimizerConfig lars;  // LARS, the paper's defaults
  auto opt_ref = make_optimizer(lars, reference->named_parameters());
  auto opt_dist = make_optimizer(lars, distributed->named_parameters());
  GradBucketer bucketer(group, distributed->parameters(), 4096);
  const double tau = 0.5, lr = 4.0;

  const auto ref_params = reference->named_parameters();
  const auto dist_params = distributed->named_parameters();
  std::vector<Tensor> initial;
  for (const auto& [name, p] : ref_params) initial.push_back(clone(p->value));
  for (uint64_t step = 0; step < 3; ++step) {
    INFO("step " << step);
    const Tensor loss_ref =
        nt_xent(reference->forward(augment(images, idx_all, policy, 9, step, DType::f64)), tau);
    loss_ref.backward();
    const DistributedNtXent loss_dist = distributed_nt_xent(
        group, distributed->forward(augment(images_mine, idx_mine, policy, 9, step, DType::f64)),
        tau);
    loss_dist.loss.backward();
    bucketer.all_reduce_average();
    CHECK(std::abs(item(loss_dist.global_loss) - item(loss_ref)) < 1e-5);
    for (size_t i = 0; i < ref_params.size(); ++i) {
      INFO(ref_params[i].first);
      CHECK(relative_diff(dist_params[i].second->value.grad(), ref_params[i].second->value.grad()) <
            1e-5);
    }
    opt_ref->step(lr);
    opt_dist->step(lr);
    reference->zero_grad();
    distributed->zero_grad();
  }
  double moved = 0;
  for (size_t i = 0; i < ref_params.size(); ++i) {
    INFO(ref_params[i].first);
    CHECK(relative_diff(dist_params[i].second->value, ref_params[i].second->value) < 1e-5);
    moved = std::max(moved, relative_diff(ref_params[i].second->value, initial[i]));
  }
  CHECK(moved > 1e-3);  // the steps changed the model far beyond the tolerance
  const auto ref_buffers = reference->named_buffers();
  const auto dist_buffers = distributed->named_buffers();
  for (size_t i = 0; i < ref_buffers.size(); ++i) {
    if (ref_buffers[i].second->value.dtype() != DType::f32) continue;
    INFO(ref_buffers[i].first);
    CHECK(relative_diff(dist_buffers[i].second->value, ref_buffers[i].second->value) < 1e-5);
  }
}

}  // namespace simclr
