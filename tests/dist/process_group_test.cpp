// The MPI process group: all_gather, all_reduce_sum_ (blocking and non-blocking) and broadcast_ at
// odd sizes and in several dtypes give the right values on every rank; the host string gather;
// start-up facts.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "dist_test_util.h"
#include "test_util.h"

namespace simclr {
namespace {

using test::test_group;

// Rank r's value at flat position i, distinct over ranks and positions.
double value_at(int rank, int64_t i) {
  return static_cast<double>(rank) * 1000.0 + static_cast<double>(i % 997);
}

template <typename T>
Tensor rank_tensor(const Shape& shape, int rank) {
  std::vector<T> data(static_cast<size_t>(shape.numel()));
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<T>(value_at(rank, static_cast<int64_t>(i)));
  return from_vector(data, shape);
}

template <typename T>
void check_all_gather(const Shape& shape) {
  ProcessGroup& g = test_group();
  const Tensor local = rank_tensor<T>(shape, g.rank());
  const Tensor out = g.all_gather(local);
  std::vector<int64_t> dims = shape.dims();
  dims[0] *= g.world_size();
  CHECK(out.shape() == Shape(dims));
  CHECK(out.dtype() == local.dtype());
  const std::vector<T> got = to_vector<T>(out);
  const int64_t per_rank = shape.numel();
  int64_t wrong = 0;
  for (int q = 0; q < g.world_size(); ++q)
    for (int64_t i = 0; i < per_rank; ++i)
      if (got[static_cast<size_t>(q * per_rank + i)] != static_cast<T>(value_at(q, i))) ++wrong;
  CHECK(wrong == 0);
}

TEST_CASE("process group: start-up gives a consistent rank, world and local rank", "[mpi]") {
  ProcessGroup& g = test_group();
  CHECK(g.world_size() >= 1);
  CHECK(g.rank() >= 0);
  CHECK(g.rank() < g.world_size());
  CHECK(g.local_rank() >= 0);
  CHECK(g.local_rank() < g.world_size());  // one node in the tests
  CHECK(g.device() == Device::cpu());
  CHECK(std::string(g.backend()) == "mpi");
  CHECK(world_rank() == g.rank());
  // Every rank sees the same world, and the ranks are 0..W-1 once each.
  Tensor rank = from_vector<int64_t>({g.rank(), g.world_size()}, {1, 2});
  const std::vector<int64_t> all = to_vector<int64_t>(g.all_gather(rank));
  for (int q = 0; q < g.world_size(); ++q) {
    CHECK(all[static_cast<size_t>(2 * q)] == q);
    CHECK(all[static_cast<size_t>(2 * q + 1)] == g.world_size());
  }
  g.barrier();
}

TEST_CASE("process group: all_gather at odd sizes in f32, f64 and i64", "[mpi]") {
  check_all_gather<float>({3, 5});
  check_all_gather<double>({1});
  check_all_gather<double>({7, 3, 1});
  check_all_gather<int64_t>({13, 11});
  check_all_gather<float>({1001});
  check_all_gather<int32_t>({5, 3});
  check_all_gather<uint8_t>({9});
}

TEST_CASE("process group: all_gather of a strided tensor gathers its values", "[mpi]") {
  ProcessGroup& g = test_group();
  const Tensor base = rank_tensor<float>({5, 3}, g.rank());
  const Tensor t = transpose(base, 0, 1);  // [3, 5], not contiguous
  const Tensor out = g.all_gather(t);
  CHECK(out.shape() == Shape({3 * static_cast<int64_t>(g.world_size()), 5}));
  const std::vector<float> got = to_vector<float>(out);
  int64_t wrong = 0;
  for (int q = 0; q < g.world_size(); ++q)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 5; ++j)
        if (got[static_cast<size_t>(q * 15 + i * 5 + j)] !=
            static_cast<float>(value_at(q, j * 3 + i)))
          ++wrong;
  CHECK(wrong == 0);
}

template <typename T>
void check_all_reduce(int64_t numel) {
  ProcessGroup& g = test_group();
  std::vector<T> data(static_cast<size_t>(numel));
  for (int64_t i = 0; i < numel; ++i)
    data[static_cast<size_t>(i)] = static_cast<T>((g.rank() + 1) * (i % 17 + 1));
  Tensor t = from_vector(data, {numel});
  g.all_reduce_sum_(t);
  const int64_t w = g.world_size();
  const std::vector<T> got = to_vector<T>(t);
  int64_t wrong = 0;
  for (int64_t i = 0; i < numel; ++i)
    if (got[static_cast<size_t>(i)] != static_cast<T>(w * (w + 1) / 2 * (i % 17 + 1))) ++wrong;
  CHECK(wrong == 0);
}

TEST_CASE("process group: all_reduce_sum_ at odd sizes in f32, f64 and i64", "[mpi]") {
  check_all_reduce<float>(1);
  check_all_reduce<float>(7919);
  check_all_reduce<double>(33);
  check_all_reduce<int64_t>(101);
  check_all_reduce<int32_t>(3);
}

TEST_CASE("process group: all_reduce_sum_ of random values equals the sum of every rank's",
          "[mpi]") {
  ProcessGroup& g = test_group();
  const Shape shape{37, 3};
  Tensor t = test::random_tensor(shape, DType::f64, 500 + static_cast<uint64_t>(g.rank()));
  g.all_reduce_sum_(t);
  Tensor expected = zeros(shape, DType::f64);
  for (int q = 0; q < g.world_size(); ++q)
    expected =
        add(expected, test::random_tensor(shape, DType::f64, 500 + static_cast<uint64_t>(q)));
  CHECK(test::compare(t, expected, {1e-14, 1e-14}).empty());
}

TEST_CASE("process group: all_reduce_sum_ in place on a strided view and in bf16", "[mpi]") {
  ProcessGroup& g = test_group();
  const int64_t w = g.world_size();
  // Every other column of a [4, 6] tensor: only those elements change.
  Tensor base = full({4, 6}, 1.0, DType::f32);
  Tensor view = slice(base, 1, 0, 6, 2);
  g.all_reduce_sum_(view);
  const std::vector<float> got = to_vector<float>(base);
  int64_t wrong = 0;
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 6; ++j)
      if (got[static_cast<size_t>(i * 6 + j)] != (j % 2 == 0 ? static_cast<float>(w) : 1.0f))
        ++wrong;
  CHECK(wrong == 0);

  Tensor h = full({11}, 1.5, DType::bf16);
  g.all_reduce_sum_(h);
  CHECK(test::compare(h, full({11}, 1.5 * static_cast<double>(w), DType::f64), {0, 0}).empty());
}

TEST_CASE("process group: several all_reduce_sum_async in flight, waited out of order", "[mpi]") {
  ProcessGroup& g = test_group();
  const double w = g.world_size();
  const std::vector<Shape> shapes{{37, 3}, {1}, {1001}};
  const std::vector<DType> dtypes{DType::f64, DType::f32, DType::f32};
  auto mine = [&](size_t i, int rank) {
    return test::random_tensor(shapes[i], dtypes[i], 600 + 10 * i + static_cast<uint64_t>(rank));
  };
  std::vector<Tensor> ts;
  std::vector<std::unique_ptr<Work>> works;
  for (size_t i = 0; i < shapes.size(); ++i) {
    ts.push_back(mine(i, g.rank()));
    works.push_back(g.all_reduce_sum_async(ts.back()));
  }
  // A blocking collective on the group while the non-blocking ones are in flight.
  Tensor one = full({2}, 1.0, DType::f32);
  g.all_reduce_sum_(one);
  CHECK(test::compare(one, full({2}, w, DType::f64), {0, 0}).empty());
  for (size_t i = shapes.size(); i-- > 0;) {
    works[i]->wait();
    CHECK(works[i]->poll());
    Tensor expected = zeros(shapes[i], DType::f64);
    for (int q = 0; q < g.world_size(); ++q) expected = add(expected, to(mine(i, q), DType::f64));
    const double tol = dtypes[i] == DType::f64 ? 1e-14 : 1e-6;
    CHECK(test::compare(ts[i], expected, {tol, tol}).empty());
  }
}

TEST_CASE("process group: all_reduce_sum_async in bf16, polled to completion", "[mpi]") {
  ProcessGroup& g = test_group();
  Tensor h = full({13}, 0.75 + g.rank(), DType::bf16);
  std::unique_ptr<Work> work = g.all_reduce_sum_async(h);
  while (!work->poll()) {
  }
  work->wait();  // writes the f32 sum back into the bf16 tensor
  double expected = 0;
  for (int q = 0; q < g.world_size(); ++q) expected += 0.75 + q;
  CHECK(test::compare(h, full({13}, expected, DType::f64), {0, 0}).empty());
  CHECK(g.stream() == Stream{});
  Tensor base = full({4, 6}, 1.0, DType::f32);
  Tensor strided = slice(base, 1, 0, 6, 2);
  CHECK_THROWS_WITH(g.all_reduce_sum_async(strided), Catch::Contains("contiguous"));
}

TEST_CASE("process group: broadcast_ copies the root's tensor to every rank", "[mpi]") {
  ProcessGroup& g = test_group();
  const int root = g.world_size() - 1;
  Tensor t = rank_tensor<double>({9, 5}, g.rank());
  g.broadcast_(t, root);
  CHECK(test::compare(t, rank_tensor<double>({9, 5}, root), {0, 0}).empty());
  Tensor i = rank_tensor<int64_t>({3}, g.rank());
  g.broadcast_(i, 0);
  CHECK(to_vector<int64_t>(i) == to_vector<int64_t>(rank_tensor<int64_t>({3}, 0)));
  Tensor b = full({5}, static_cast<double>(g.rank()), DType::bf16);
  g.broadcast_(b, root);
  CHECK(test::compare(b, full({5}, static_cast<double>(root), DType::f64), {0, 0}).empty());
  CHECK_THROWS_WITH(g.broadcast_(t, g.world_size()), Catch::Contains("is not a rank"));
}

TEST_CASE("process group: all_gather_strings returns every rank's text in rank order", "[mpi]") {
  ProcessGroup& g = test_group();
  // Lengths differ by rank, the empty string included.
  const std::string mine(static_cast<size_t>(g.rank() * 3), static_cast<char>('a' + g.rank()));
  const std::vector<std::string> all = g.all_gather_strings(mine);
  REQUIRE(all.size() == static_cast<size_t>(g.world_size()));
  for (int q = 0; q < g.world_size(); ++q)
    CHECK(all[static_cast<size_t>(q)] ==
          std::string(static_cast<size_t>(q * 3), static_cast<char>('a' + q)));
}

TEST_CASE("process group: a second init_distributed reuses the running MPI", "[mpi]") {
  test_group();
  std::unique_ptr<ProcessGroup> other = init_distributed(DeviceType::cpu);
  CHECK(other->rank() == test_group().rank());
  CHECK(other->world_size() == test_group().world_size());
  Tensor t = full({3}, 1.0, DType::f32);
  other->all_reduce_sum_(t);
  CHECK(to_vector<float>(t) == std::vector<float>(3, static_cast<float>(other->world_size())));
}

#if !SIMCLR_WITH_CUDA
TEST_CASE("process group: init_distributed for CUDA fails clearly without CUDA", "[mpi]") {
  test_group();
  CHECK_THROWS_WITH(init_distributed(DeviceType::cuda), Catch::Contains("without CUDA"));
}
#endif

}  // namespace
}  // namespace simclr
