// GradBucketer: the bucket layout, the bucketed all-reduce averaging gradients over the ranks, and
// its overlap with backward (hooks launch buckets during backward; same bits as without).
#include <catch2/catch.hpp>

#include <functional>
#include <vector>

#include "dist/grad_bucketer.h"
#include "dist_test_util.h"
#include "test_util.h"

namespace simclr {
namespace {

using test::test_group;

std::vector<Tensor> make_parameters(const std::vector<Shape>& shapes) {
  std::vector<Tensor> params;
  for (size_t i = 0; i < shapes.size(); ++i) {
    Tensor p = test::random_tensor(shapes[i], DType::f32, 100 + i);
    p.set_requires_grad(true);
    params.push_back(p);
  }
  return params;
}

TEST_CASE("GradBucketer: buckets in reverse parameter order, closed at the size limit", "[mpi]") {
  ProcessGroup& g = test_group();
  // f32: 40, 12, 400, 4 and 28 bytes.
  const std::vector<Tensor> params = make_parameters({{10}, {3}, {10, 10}, {1}, {7}});
  GradBucketer bucketer(g, params, 32);
  // From the back: {4: 28 bytes, 3: +4 = 32 -> full}, {2: 400 -> full}, {1: 12, 0: +40}.
  const std::vector<std::vector<size_t>> expected{{4, 3}, {2}, {1, 0}};
  CHECK(bucketer.bucket_members() == expected);
  CHECK(bucketer.bucket_bytes(0) == 32);
  CHECK(bucketer.bucket_bytes(1) == 400);
  CHECK(bucketer.bucket_bytes(2) == 52);
  GradBucketer one(g, params);
  CHECK(one.num_buckets() == 1);
  CHECK(GradBucketer::kDefaultBucketBytes == 25u * 1024 * 1024);
  // A change of dtype opens a new bucket.
  Tensor d = test::random_tensor({2}, DType::f64, 9);
  d.set_requires_grad(true);
  CHECK(GradBucketer(g, {params[0], d, params[1]}).num_buckets() == 3);
}

TEST_CASE("GradBucketer: all_reduce_average averages every gradient over the ranks", "[mpi]") {
  ProcessGroup& g = test_group();
  const std::vector<Shape> shapes{{10}, {3, 5}, {7, 1, 3}, {1}, {33}};
  std::vector<Tensor> params = make_parameters(shapes);
  auto grad_of = [](size_t i, int rank, const Shape& shape) {
    return test::random_tensor(shape, DType::f32, 1000 + 31 * i + 7 * static_cast<uint64_t>(rank));
  };
  for (int step = 0; step < 2; ++step) {  // the second step reuses the flat buffers
    for (size_t i = 0; i < params.size(); ++i) params[i].set_grad(grad_of(i, g.rank(), shapes[i]));
    GradBucketer bucketer(g, params, 64);
    CHECK(bucketer.num_buckets() > 1);
    bucketer.all_reduce_average();
    for (size_t i = 0; i < params.size(); ++i) {
      Tensor expected = zeros(shapes[i], DType::f32);
      for (int q = 0; q < g.world_size(); ++q) expected = add(expected, grad_of(i, q, shapes[i]));
      expected = mul(expected, 1.0 / g.world_size());
      CHECK(test::compare(params[i].grad(), expected, {1e-6, 1e-6}).empty());
    }
  }
}

TEST_CASE("GradBucketer: a parameter without a gradient counts as zeros", "[mpi]") {
  ProcessGroup& g = test_group();
  std::vector<Tensor> params = make_parameters({{4}, {5}});
  // Only rank 0 has a gradient for parameter 1.
  params[0].set_grad(full({4}, 2.0, DType::f32));
  if (g.rank() == 0) params[1].set_grad(full({5}, 3.0, DType::f32));
  GradBucketer bucketer(g, params);
  bucketer.all_reduce_average();
  const double w = g.world_size();
  REQUIRE(params[1].grad().defined());
  CHECK(test::compare(params[0].grad(), full({4}, 2.0, DType::f64), {0, 1e-7}).empty());
  CHECK(test::compare(params[1].grad(), full({5}, 3.0 / w, DType::f64), {1e-7, 1e-7}).empty());
}

// A model-like parameter list at odd sizes, in forward order: a small MLP, a parameter no backward
// reaches, one only rank 0 uses, and an f64 one (its own bucket).
const std::vector<Shape> kShapes{{7, 5}, {5}, {3}, {5, 11}, {11}, {4}, {11, 3}, {3}, {6}};
constexpr size_t kUnused = 2, kRankZeroOnly = 5, kDouble = 8;

std::vector<Tensor> model_parameters() {
  std::vector<Tensor> params;
  for (size_t i = 0; i < kShapes.size(); ++i) {
    Tensor p = test::random_tensor(kShapes[i], i == kDouble ? DType::f64 : DType::f32, 200 + i);
    p.set_requires_grad(true);
    params.push_back(p);
  }
  return params;
}

// Rank `rank`'s loss at step `step`; its gradients differ by rank and step.
Tensor model_loss(const std::vector<Tensor>& p, int rank, int step) {
  const uint64_t seed = 300 + 17 * static_cast<uint64_t>(rank) + 5 * static_cast<uint64_t>(step);
  const Tensor x = test::random_tensor({9, 7}, DType::f32, seed);
  Tensor h = tanh(add(matmul(x, p[0]), p[1]));
  h = tanh(add(matmul(h, p[3]), p[4]));
  h = add(matmul(h, p[6]), p[7]);
  Tensor loss = sum(square(h));
  if (rank == 0) loss = add(loss, sum(mul(p[kRankZeroOnly], p[kRankZeroOnly])));
  const Tensor c = test::random_tensor({6}, DType::f64, seed + 1);
  return add(loss, to(sum(mul(p[kDouble], c)), DType::f32));
}

// The average over the ranks of each parameter's gradient (zeros where a rank has none),
// computed on this process alone.
std::vector<Tensor> expected_average(int world, int step) {
  std::vector<Tensor> total;
  for (size_t i = 0; i < kShapes.size(); ++i)
    total.push_back(zeros(kShapes[i], i == kDouble ? DType::f64 : DType::f32));
  for (int q = 0; q < world; ++q) {
    const std::vector<Tensor> p = model_parameters();
    model_loss(p, q, step).backward();
    for (size_t i = 0; i < p.size(); ++i)
      if (p[i].grad().defined()) total[i] = add(total[i], p[i].grad());
  }
  for (Tensor& t : total) t = mul(t, 1.0 / world);
  return total;
}

// Two steps of backward + all_reduce_average (gradients dropped in between, as zero_grad does).
std::vector<std::vector<Tensor>> run_steps(ProcessGroup& g, bool overlap, size_t* overlapped) {
  std::vector<Tensor> params = model_parameters();
  GradBucketer bucketer(g, params, 48, overlap);
  std::vector<std::vector<Tensor>> grads;
  for (int step = 0; step < 2; ++step) {
    for (Tensor& p : params) p.set_grad(Tensor());
    model_loss(params, g.rank(), step).backward();
    bucketer.all_reduce_average();
    overlapped[step] = bucketer.overlapped_buckets();
    grads.emplace_back();
    for (const Tensor& p : params) grads.back().push_back(clone(p.grad()));
  }
  const std::vector<std::vector<size_t>> layout{{8}, {7, 6}, {5, 4}, {3}, {2, 1, 0}};
  CHECK(bucketer.bucket_members() == layout);
  return grads;
}

TEST_CASE("GradBucketer: overlapped equals synchronous bit for bit, and the ranks' mean", "[mpi]") {
  ProcessGroup& g = test_group();
  size_t overlapped[2] = {99, 99}, synchronous[2] = {99, 99};
  const auto with_overlap = run_steps(g, true, overlapped);
  const auto without = run_steps(g, false, synchronous);
  for (int step = 0; step < 2; ++step) {
    const std::vector<Tensor> expected = expected_average(g.world_size(), step);
    for (size_t i = 0; i < kShapes.size(); ++i) {
      INFO("step " << step << ", parameter " << i);
      CHECK(test::compare(with_overlap[step][i], without[step][i], {0, 0}).empty());
      CHECK(test::compare(with_overlap[step][i], expected[i], {1e-6, 1e-7}).empty());
    }
    CHECK(synchronous[step] == 0);
    // Buckets {8}, {7, 6}, {5, 4}, {3}, {2, 1, 0} launch in order: on ranks other than 0 the
    // third waits for all_reduce_average() (parameter 5 gets no gradient there), and so does
    // every later one; on rank 0 only the last, which holds the unused parameter.
    CHECK(overlapped[step] == (g.rank() == 0 ? 4u : 2u));
  }
  const std::vector<Tensor> expected = expected_average(g.world_size(), 0);
  CHECK(test::values(with_overlap[0][kUnused]) == std::vector<double>(3, 0.0));
  CHECK(test::compare(with_overlap[0][kRankZeroOnly], expected[kRankZeroOnly], {0, 0}).empty());
}

TEST_CASE("GradBucketer: with every gradient produced, backward launches every bucket", "[mpi]") {
  ProcessGroup& g = test_group();
  std::vector<Tensor> params = make_parameters({{13}, {3, 5}, {1}, {29}});
  GradBucketer bucketer(g, params, 16);
  const auto loss = [&](int rank) {
    Tensor total = zeros({}, DType::f32);
    for (size_t i = 0; i < params.size(); ++i) {
      const uint64_t seed = 700 + 11 * i + 3 * static_cast<uint64_t>(rank);
      total = add(total, sum(mul(square(params[i]),
                                 test::random_tensor(params[i].shape(), DType::f32, seed))));
    }
    return total;
  };
  loss(g.rank()).backward();
  bucketer.all_reduce_average();
  CHECK(bucketer.overlapped_buckets() == bucketer.num_buckets());
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor expected = zeros(params[i].shape(), DType::f32);
    for (int q = 0; q < g.world_size(); ++q) {
      const uint64_t seed = 700 + 11 * i + 3 * static_cast<uint64_t>(q);
      expected = add(expected, mul(mul(params[i].detach(), 2.0),
                                   test::random_tensor(params[i].shape(), DType::f32, seed)));
    }
    CHECK(
        test::compare(params[i].grad(), mul(expected, 1.0 / g.world_size()), {1e-6, 1e-7}).empty());
  }
  // A second backward before all_reduce_average() would mix two steps into launched buckets.
  loss(g.rank()).backward();
  CHECK_THROWS_WITH(loss(g.rank()).backward(), Catch::Contains("second gradient"));
}

}  // namespace
}  // namespace simclr
