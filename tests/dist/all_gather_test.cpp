// all_gather_with_grad, gather_views and distributed_nt_xent: W ranks x B samples give the loss
// and gradients of one process running the W * B samples (each rank computes that reference on
// the gathered global batch and compares its own share).
#include <catch2/catch.hpp>

#include "dist/all_gather.h"
#include "dist/grad_bucketer.h"
#include "dist_test_util.h"
#include "kernels/nt_xent.h"
#include "test_util.h"

namespace simclr {
namespace {

using test::test_group;

uint64_t rank_seed(uint64_t base, int rank) {
  return base + 7919 * static_cast<uint64_t>(rank);
}

TEST_CASE("all_gather_with_grad: backward returns this rank's slice of the summed gradient",
          "[mpi]") {
  ProcessGroup& g = test_group();
  const int64_t w = g.world_size(), rows = 3, cols = 5;
  Tensor z = test::random_tensor({rows, cols}, DType::f64, rank_seed(10, g.rank()));
  z.set_requires_grad(true);
  const Tensor gathered = all_gather_with_grad(g, z);
  CHECK(gathered.shape() == Shape({w * rows, cols}));
  // Each rank's loss weighs the gathered rows with its own weights c_r.
  const Shape global{w * rows, cols};
  const Tensor c = test::random_tensor(global, DType::f64, rank_seed(20, g.rank()));
  sum(mul(gathered, c)).backward();
  // d(sum_q loss_q)/dz_r = sum_q c_q[rows of r].
  Tensor c_sum = zeros(global, DType::f64);
  for (int q = 0; q < w; ++q)
    c_sum = add(c_sum, test::random_tensor(global, DType::f64, rank_seed(20, q)));
  const Tensor expected = slice(c_sum, 0, g.rank() * rows, (g.rank() + 1) * rows);
  REQUIRE(z.grad().defined());
  CHECK(test::compare(z.grad(), expected, {1e-14, 1e-14}).empty());
  // The forward values are every rank's z in rank order.
  for (int q = 0; q < w; ++q) {
    const Tensor theirs = test::random_tensor({rows, cols}, DType::f64, rank_seed(10, q));
    CHECK(test::compare(slice(gathered, 0, q * rows, (q + 1) * rows), theirs, {0, 0}).empty());
  }
}

TEST_CASE("all_reduce_with_grad: the sum over ranks, and the summed gradient back", "[mpi]") {
  ProcessGroup& g = test_group();
  const Shape shape{3, 7};
  Tensor t = test::random_tensor(shape, DType::f64, rank_seed(80, g.rank()));
  t.set_requires_grad(true);
  const Tensor total = all_reduce_with_grad(g, t);
  Tensor expected = zeros(shape, DType::f64), weights = zeros(shape, DType::f64);
  for (int q = 0; q < g.world_size(); ++q) {
    expected = add(expected, test::random_tensor(shape, DType::f64, rank_seed(80, q)));
    weights = add(weights, test::random_tensor(shape, DType::f64, rank_seed(90, q)));
  }
  CHECK(test::compare(total, expected, {1e-14, 1e-14}).empty());
  // Rank q's loss weighs the sum with c_q: d(sum_q loss_q)/dt_r = sum_q c_q on every rank.
  sum(mul(total, test::random_tensor(shape, DType::f64, rank_seed(90, g.rank())))).backward();
  REQUIRE(t.grad().defined());
  CHECK(test::compare(t.grad(), weights, {1e-14, 1e-14}).empty());
}

TEST_CASE("gather_views: the global batch in the n / n + N pair layout", "[mpi]") {
  ProcessGroup& g = test_group();
  const int64_t w = g.world_size(), b = 3, d = 4;
  Tensor z = test::random_tensor({2 * b, d}, DType::f32, rank_seed(30, g.rank()));
  z.set_requires_grad(true);
  const Tensor global = gather_views(g, z);
  CHECK(global.shape() == Shape({2 * w * b, d}));
  const Tensor expected = test::pair_layout(g.all_gather(z.detach()), w, b);
  CHECK(test::compare(global, expected, {0, 0}).empty());
  // Backward: with the same loss weights on every rank, the gradient is W times this rank's rows.
  const Tensor c = test::random_tensor({2 * w * b, d}, DType::f32, 40);
  sum(mul(global, c)).backward();
  REQUIRE(z.grad().defined());
  CHECK(test::compare(z.grad(), mul(test::rank_rows(c, g.rank(), w, b), static_cast<double>(w)),
                      {1e-6, 1e-6})
            .empty());
}

void check_nt_xent(DType dtype, bool normalize, test::Tolerance tol) {
  ProcessGroup& g = test_group();
  const int64_t w = g.world_size(), b = 5, d = 7;
  const double tau = 0.2;
  Tensor z = test::random_tensor({2 * b, d}, dtype, rank_seed(50, g.rank()));
  z.set_requires_grad(true);
  const DistributedNtXent out = distributed_nt_xent(g, z, tau, normalize);
  out.loss.backward();
  REQUIRE(z.grad().defined());

  // The reference: one process running the gathered global batch.
  Tensor z_all = test::pair_layout(g.all_gather(z.detach()), w, b);
  z_all.set_requires_grad(true);
  const Tensor reference = nt_xent(z_all, tau, normalize);
  reference.backward();
  CHECK(test::compare(out.global_loss, reference, tol).empty());
  // The ranks' losses average to the global loss.
  Tensor loss_sum = clone(out.loss.detach());
  g.all_reduce_sum_(loss_sum);
  CHECK(test::compare(mul(loss_sum, 1.0 / static_cast<double>(w)), reference, tol).empty());
  // This rank's rows get W times the global gradient (the sum of the ranks' losses).
  const Tensor expected =
      mul(test::rank_rows(z_all.grad(), g.rank(), w, b), static_cast<double>(w));
  const std::string message = test::compare(z.grad(), expected, tol);
  INFO(message);
  CHECK(message.empty());
}

TEST_CASE("distributed_nt_xent: W ranks x B equals 1 rank x W B (loss and gradients)", "[mpi]") {
  check_nt_xent(DType::f64, true, {1e-10, 1e-12});
  check_nt_xent(DType::f64, false, {1e-10, 1e-12});
  check_nt_xent(DType::f32, true, {1e-5, 1e-6});
}

TEST_CASE("distributed_nt_xent: averaged parameter gradients equal the global batch's", "[mpi]") {
  // A linear "encoder" z = x p, p shared: after backward of each rank's loss and the bucketed
  // average, p.grad is the gradient of one process running the global batch.
  ProcessGroup& g = test_group();
  const int64_t w = g.world_size(), b = 4, in = 6, d = 5;
  const double tau = 0.5;
  Tensor p = test::random_tensor({in, d}, DType::f64, 60);
  p.set_requires_grad(true);
  Tensor bias = test::random_tensor({d}, DType::f64, 61);
  bias.set_requires_grad(true);
  const Tensor x = test::random_tensor({2 * b, in}, DType::f64, rank_seed(70, g.rank()));
  const DistributedNtXent out = distributed_nt_xent(g, add(matmul(x, p), bias), tau);
  out.loss.backward();
  GradBucketer bucketer(g, {p, bias}, 32);  // tiny buckets: several all-reduces
  CHECK(bucketer.num_buckets() == 2);
  bucketer.all_reduce_average();

  Tensor p_ref = test::random_tensor({in, d}, DType::f64, 60);
  p_ref.set_requires_grad(true);
  Tensor bias_ref = test::random_tensor({d}, DType::f64, 61);
  bias_ref.set_requires_grad(true);
  const Tensor x_all = test::pair_layout(g.all_gather(x), w, b);
  const Tensor reference = nt_xent(add(matmul(x_all, p_ref), bias_ref), tau);
  reference.backward();
  CHECK(test::compare(out.global_loss, reference, {1e-10, 1e-12}).empty());
  CHECK(test::compare(p.grad(), p_ref.grad(), {1e-10, 1e-12}).empty());
  CHECK(test::compare(bias.grad(), bias_ref.grad(), {1e-10, 1e-12}).empty());
}

TEST_CASE("distributed_nt_xent: argument errors name the op", "[mpi]") {
  ProcessGroup& g = test_group();
  const Tensor odd = test::random_tensor({3, 4}, DType::f32, 1);
  CHECK_THROWS_WITH(distributed_nt_xent(g, odd, 0.1), Catch::Contains("distributed_nt_xent"));
  const Tensor z = test::random_tensor({4, 4}, DType::f32, 1);
  CHECK_THROWS_WITH(distributed_nt_xent(g, z, 0.0), Catch::Contains("temperature"));
  CHECK_THROWS_WITH(gather_views(g, odd), Catch::Contains("even number"));
}

}  // namespace
}  // namespace simclr
