// SyncBatchNorm over the ranks: W ranks with B samples each, their statistics summed by
// all_reduce_with_grad, give what one process holding all W B samples gets: the outputs and input
// gradients of each rank's rows, gamma and beta gradients (summed over the ranks), and the running
// statistics. Every rank computes the references itself: SyncBatchNorm on one process (the
// identity as the all-reduce), to 1e-10 in f64 and 1e-5 in f32, and plain BatchNorm, whose fused
// kernel keeps f32 statistics for backward, so its f64 gradients are compared to 1e-6.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "dist/all_gather.h"
#include "dist_test_util.h"
#include "layers/batch_norm.h"
#include "test_util.h"

namespace simclr {
namespace {

using test::test_group;

void randomize(BatchNorm& bn, int64_t c) {
  NoGradGuard no_grad;
  copy_(bn.weight(), test::random_tensor({c}, DType::f32, 31, 0.5, 1.5));
  copy_(bn.bias(), test::random_tensor({c}, DType::f32, 32));
  copy_(bn.running_mean(), test::random_tensor({c}, DType::f32, 33));
  copy_(bn.running_var(), test::random_tensor({c}, DType::f32, 34, 0.5, 2.0));
}

Tensor leaf(const Tensor& t) {
  Tensor out = contiguous(t.detach());
  out.set_requires_grad(true);
  return out;
}

Tensor summed_over_ranks(ProcessGroup& g, const Tensor& t) {
  NoGradGuard no_grad;
  Tensor total = clone(t);
  g.all_reduce_sum_(total);
  return total;
}

struct Run {
  Tensor y, x_grad, residual_grad;
};

// Forward of `bn` over rows [first, first + rows) of the global batch, and backward of those
// rows weighted by the global upstream gradient.
Run run(BatchNorm& bn, const Tensor& x_all, const Tensor& res_all, const Tensor& grad_all,
        int64_t first, int64_t rows, bool with_residual, bool relu) {
  const Tensor x = leaf(slice(x_all, 0, first, first + rows));
  const Tensor res = with_residual ? leaf(slice(res_all, 0, first, first + rows)) : Tensor();
  const Tensor y = bn.forward(x, res, relu);
  sum(mul(y, slice(grad_all, 0, first, first + rows))).backward();
  return {y, x.grad(), with_residual ? res.grad() : Tensor()};
}

void check_sync(DType dtype, Shape local_shape, bool with_residual, bool relu, double tol) {
  ProcessGroup& g = test_group();
  INFO(dtype_name(dtype) << " " << local_shape.str() << (with_residual ? " +residual" : "")
                         << (relu ? " relu" : ""));
  const int64_t b = local_shape[0], c = local_shape[local_shape.ndim() - 1];
  std::vector<int64_t> dims = local_shape.dims();
  dims[0] *= g.world_size();
  const Shape global_shape(dims);
  // The same global batch on every rank (fixed seeds); each rank holds its own rows.
  const Tensor x_all = test::random_tensor(global_shape, dtype, 41, -2.0, 3.0);
  const Tensor res_all = test::random_tensor(global_shape, dtype, 42);
  const Tensor grad_all = test::random_tensor(global_shape, dtype, 43);

  BatchNorm plain(c, local_shape.ndim()), single(c, local_shape.ndim());
  BatchNorm synced(c, local_shape.ndim());
  for (BatchNorm* bn : {&plain, &single, &synced}) randomize(*bn, c);
  single.set_sync([](const Tensor& s) { return s; });
  enable_sync_batch_norm(synced, [&g](const Tensor& s) { return all_reduce_with_grad(g, s); });

  const int64_t all_rows = global_shape[0], first = g.rank() * b;
  const Run p = run(plain, x_all, res_all, grad_all, 0, all_rows, with_residual, relu);
  const Run one = run(single, x_all, res_all, grad_all, 0, all_rows, with_residual, relu);
  // Rank r's loss weighs its rows with its share of the global gradient: the sum of the ranks'
  // losses is the one-process loss.
  const Run mine = run(synced, x_all, res_all, grad_all, first, b, with_residual, relu);
  const Tensor gamma_grad = summed_over_ranks(g, synced.weight().grad());
  const Tensor beta_grad = summed_over_ranks(g, synced.bias().grad());

  const test::Tolerance t{tol, tol}, f32{1e-5, 1e-5};
  const test::Tolerance fused = dtype == DType::f64 ? test::Tolerance{1e-6, 1e-6} : f32;
  for (const auto& [reference, grad_tol] : {std::pair{&one, t}, std::pair{&p, fused}}) {
    INFO((reference == &one ? "against one-process SyncBatchNorm" : "against BatchNorm"));
    CHECK(test::compare(mine.y, slice(reference->y, 0, first, first + b), t).empty());
    CHECK(test::compare(mine.x_grad, slice(reference->x_grad, 0, first, first + b), grad_tol)
              .empty());
    if (with_residual)
      CHECK(test::compare(mine.residual_grad, slice(reference->residual_grad, 0, first, first + b),
                          grad_tol)
                .empty());
  }
  // Gamma, beta and the running statistics are f32 whatever the input's dtype.
  for (BatchNorm* reference : {&single, &plain}) {
    CHECK(test::compare(gamma_grad, reference->weight().grad(), f32).empty());
    CHECK(test::compare(beta_grad, reference->bias().grad(), f32).empty());
    CHECK(test::compare(synced.running_mean(), reference->running_mean(), f32).empty());
    CHECK(test::compare(synced.running_var(), reference->running_var(), f32).empty());
  }
}

TEST_CASE("SyncBatchNorm: W ranks x B equal plain BatchNorm over W B rows", "[mpi]") {
  for (const bool residual : {false, true}) {
    for (const bool relu : {false, true}) {
      check_sync(DType::f64, {3, 5, 4, 7}, residual, relu, 1e-10);
      check_sync(DType::f32, {3, 5, 4, 7}, residual, relu, 1e-5);
    }
  }
  check_sync(DType::f64, {5, 9}, false, true, 1e-10);
  check_sync(DType::f32, {5, 9}, true, false, 1e-5);
}

}  // namespace
}  // namespace simclr
