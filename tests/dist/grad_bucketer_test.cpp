// GradBucketer: the bucket layout, and the bucketed all-reduce averaging gradients over the ranks.
#include <catch2/catch.hpp>

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

}  // namespace
}  // namespace simclr
