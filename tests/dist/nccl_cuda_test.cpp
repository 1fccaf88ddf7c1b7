// The NCCL process group as a job of one rank on one GPU: collectives on the group's stream with
// the current stream waiting for them; GradBucketer overlapping backward on the communication
// stream gives the synchronous bucketer's bits; SyncBatchNorm through NCCL matches BatchNorm.
// (Several ranks need several GPUs: the [mpi] tests cover the logic on the CPU.)
#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "cuda_test_util.h"
#include "dist/all_gather.h"
#include "dist/grad_bucketer.h"
#include "dist_test_util.h"
#include "layers/batch_norm.h"

namespace simclr {
namespace {

using test::kCuda;

ProcessGroup& nccl_group() {
  test::test_group();  // MPI first, so that it is finalized after this group is destroyed
  static std::unique_ptr<ProcessGroup> group = init_distributed(DeviceType::cuda);
  return *group;
}

Tensor on_cuda(const Shape& shape, uint64_t seed) {
  return test::random_tensor(shape, DType::f32, seed, -1.0, 1.0, kCuda);
}

TEST_CASE("NCCL group: collectives on its own stream, ordered with the current stream",
          "[cuda][dist]") {
  ProcessGroup& g = nccl_group();
  REQUIRE(std::string(g.backend()) == "nccl");
  CHECK(g.stream() != current_stream(kCuda));
  Tensor t = on_cuda({1001}, 1);
  const Tensor before = clone(t);
  std::unique_ptr<Work> work = g.all_reduce_sum_async(t);
  work->wait();
  CHECK(test::compare(t, before, {0, 0}).empty());  // one rank: the sum is itself
  Tensor strided = slice(on_cuda({6, 4}, 2), 1, 0, 4, 2);
  const Tensor strided_before = clone(strided);
  g.all_reduce_sum_(strided);
  CHECK(test::compare(strided, strided_before, {0, 0}).empty());
  CHECK(test::compare(g.all_gather(before), before, {0, 0}).empty());
  g.broadcast_(t, 0);
  g.barrier();
  CHECK(work->poll());
}

std::vector<Tensor> mlp_parameters() {
  std::vector<Tensor> params;
  for (const Shape& s : std::vector<Shape>{{7, 5}, {5}, {5, 11}, {11}, {11, 3}, {3}}) {
    Tensor p = on_cuda(s, 10 + params.size());
    p.set_requires_grad(true);
    params.push_back(p);
  }
  return params;
}

Tensor mlp_loss(const std::vector<Tensor>& p, int step) {
  const Tensor x = on_cuda({9, 7}, 50 + static_cast<uint64_t>(step));
  Tensor h = tanh(add(matmul(x, p[0]), p[1]));
  h = tanh(add(matmul(h, p[2]), p[3]));
  return sum(square(add(matmul(h, p[4]), p[5])));
}

std::vector<Tensor> bucketed_grads(ProcessGroup& g, bool overlap, int step) {
  std::vector<Tensor> params = mlp_parameters();
  GradBucketer bucketer(g, params, 64, overlap);
  mlp_loss(params, step).backward();
  bucketer.all_reduce_average();
  CHECK(bucketer.overlapped_buckets() == (overlap ? bucketer.num_buckets() : 0));
  std::vector<Tensor> grads;
  for (const Tensor& p : params) grads.push_back(to(p.grad(), Device::cpu()));
  return grads;
}

TEST_CASE("GradBucketer on CUDA: overlapped equals synchronous and plain backward, bit for bit",
          "[cuda][dist]") {
  ProcessGroup& g = nccl_group();
  for (int step = 0; step < 2; ++step) {
    const std::vector<Tensor> overlapped = bucketed_grads(g, true, step);
    const std::vector<Tensor> synchronous = bucketed_grads(g, false, step);
    std::vector<Tensor> plain = mlp_parameters();
    mlp_loss(plain, step).backward();
    for (size_t i = 0; i < plain.size(); ++i) {
      INFO("step " << step << ", parameter " << i);
      CHECK(test::compare(overlapped[i], synchronous[i], {0, 0}).empty());
      CHECK(test::compare(overlapped[i], plain[i].grad(), {0, 0}).empty());
    }
  }
}

TEST_CASE("SyncBatchNorm through NCCL matches BatchNorm on CUDA", "[cuda][dist]") {
  ProcessGroup& g = nccl_group();
  const int64_t c = 7;
  BatchNorm plain(c, 4), synced(c, 4);
  plain.to(kCuda);
  synced.to(kCuda);
  synced.set_sync([&g](const Tensor& s) { return all_reduce_with_grad(g, s); });
  Tensor xa = on_cuda({3, 5, 4, c}, 60), xb = clone(xa);
  xa.set_requires_grad(true);
  xb.set_requires_grad(true);
  const Tensor w = on_cuda({3, 5, 4, c}, 61);
  const Tensor ya = plain.forward(xa, Tensor(), true), yb = synced.forward(xb, Tensor(), true);
  sum(mul(ya, w)).backward();
  sum(mul(yb, w)).backward();
  const test::Tolerance tol{1e-4, 1e-5};
  CHECK(test::compare(yb, ya, tol).empty());
  CHECK(test::compare(xb.grad(), xa.grad(), tol).empty());
  CHECK(test::compare(synced.weight().grad(), plain.weight().grad(), tol).empty());
  CHECK(test::compare(synced.running_var(), plain.running_var(), tol).empty());
}

}  // namespace
}  // namespace simclr
