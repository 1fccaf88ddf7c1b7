// [cuda] tests of the reductions (sum, mean, max, min, norm): CUDA against the CPU over all dims,
// one dim, several dims, with and without keepdim, on strided views, over one element and over
// 100003 elements, forward and backward. The CUDA kernel folds in a fixed tree order and the CPU
// sequentially, so sums agree to rounding; inputs of sums are positive (no cancellation) except in
// f64, where rounding is far below the tolerance.
#include <catch2/catch.hpp>

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "cuda_test_util.h"
#include "kernels/ops.h"

namespace {

using namespace simclr;
using test::kCpu;
using test::kCuda;

constexpr test::DTypeTolerances kReduceTol{
    .f64 = {1e-11, 1e-12}, .f32 = {1e-4, 1e-5}, .bf16 = {2e-2, 2e-2}, .f16 = {4e-3, 4e-3}};

using ReduceFn = Tensor (*)(const Tensor&, const std::vector<int64_t>&, bool);

struct ReduceOpCase {
  std::string name;
  ReduceFn f;
  bool sums;  // folds by addition (sum, mean): positive inputs below f64
};

const std::vector<ReduceOpCase>& reduce_ops() {
  static const std::vector<ReduceOpCase> ops{
      {"sum", &simclr::sum, true},  {"mean", &simclr::mean, true},  {"max", &simclr::max, false},
      {"min", &simclr::min, false}, {"norm", &simclr::norm, false},
  };
  return ops;
}

struct ReduceCase {
  std::string name;
  Shape stored;
  std::function<Tensor(const Tensor&)> view;  // applied to the stored leaf
  std::vector<int64_t> dims;
  bool keepdim;
};

Tensor same(const Tensor& t) {
  return t;
}
Tensor permuted_120(const Tensor& t) {
  return permute(t, {1, 2, 0});
}
Tensor permuted_201(const Tensor& t) {
  return permute(t, {2, 0, 1});
}
Tensor stepped(const Tensor& t) {
  return slice(slice(t, 0, 1, 9, 2), 1, 2, 7);
}
Tensor transposed(const Tensor& t) {
  return transpose(t, 0, 1);
}

const std::vector<ReduceCase>& small_cases() {
  static const std::vector<ReduceCase> cases{
      {"all dims", {5, 6, 7}, same, {}, false},
      {"all dims keepdim", {5, 6, 7}, same, {}, true},
      {"middle dim", {5, 6, 7}, same, {1}, false},
      {"middle dim keepdim", {5, 6, 7}, same, {1}, true},
      {"first and last dims", {5, 6, 7}, same, {0, 2}, false},
      {"negative dims keepdim", {5, 6, 7}, same, {-1, 0}, true},
      {"permuted view", {7, 5, 6}, permuted_120, {0, 2}, false},
      {"permuted view keepdim", {7, 5, 6}, permuted_201, {1}, true},
      {"stepped slice", {9, 8, 3}, stepped, {1, 2}, false},
      {"transposed rows", {33, 129}, transposed, {1}, false},
      {"rows of 129", {129, 17}, same, {0}, true},
      {"one element", {1, 1}, same, {}, false},
      {"one element per output", {4, 1, 3}, same, {1}, false},
      {"4-D over two inner dims", {2, 3, 4, 5}, same, {1, 3}, false},
  };
  return cases;
}

const std::vector<ReduceCase>& large_cases() {
  static const std::vector<ReduceCase> cases{
      {"100003 per row", {3, 100003}, same, {1}, false},
      {"100003 outputs of 3", {3, 100003}, same, {0}, true},
      {"all of a transposed 100003 x 3", {3, 100003}, transposed, {}, false},
  };
  return cases;
}

void run_cases(const std::vector<ReduceCase>& cases, DType dtype, uint64_t seed) {
  for (const ReduceCase& c : cases) {
    for (const ReduceOpCase& op : reduce_ops()) {
      // A sum of 100003 values from [0.5, 1.5) does not fit in f16.
      if (dtype == DType::f16 && op.name == "sum" && c.stored.numel() > 60000) continue;
      INFO(op.name << " " << c.name << " " << dtype_name(dtype));
      const bool positive = op.sums && dtype != DType::f64;
      const Tensor x =
          test::random_tensor(c.stored, dtype, ++seed, positive ? 0.5 : -1.0, positive ? 1.5 : 1.0);
      const ReduceFn f = op.f;
      const auto view = c.view;
      const std::vector<int64_t> dims = c.dims;
      const bool keepdim = c.keepdim;
      const test::Tolerance tol = kReduceTol(dtype);
      test::check_backends(
          [f, view, dims, keepdim](const std::vector<Tensor>& in) {
            return f(view(in[0]), dims, keepdim);
          },
          {x}, {.forward = tol, .backward = tol, .weight_seed = 4444});
    }
  }
}

}  // namespace

TEST_CASE("reductions on CUDA match the CPU over dims views and keepdim",
          "[cuda][kernels][reduce]") {
  const DType dtype = GENERATE(DType::f32, DType::f64, DType::bf16, DType::f16);
  run_cases(small_cases(), dtype, 8000);
}

TEST_CASE("reductions on CUDA match the CPU over 100003 elements", "[cuda][kernels][reduce]") {
  const DType dtype = GENERATE(DType::f32, DType::f64, DType::bf16, DType::f16);
  run_cases(large_cases(), dtype, 9000);
}

TEST_CASE("reductions on CUDA give the shapes the CPU gives", "[cuda][kernels][reduce]") {
  const Tensor x = to(test::random_tensor({5, 6, 7}, DType::f32, 9500), kCuda);
  const Shape s0{}, s1{5, 7}, s2{5, 1, 7}, s3{1, 1, 1}, s4{6};
  REQUIRE(sum(x).shape() == s0);
  REQUIRE(mean(x, {1}).shape() == s1);
  REQUIRE(max(x, {1}, true).shape() == s2);
  REQUIRE(min(x, {}, true).shape() == s3);
  REQUIRE(norm(x, {0, 2}).shape() == s4);
  REQUIRE(sum(x).device() == kCuda);
}

TEST_CASE("reductions on CUDA of NaN and infinity", "[cuda][kernels][reduce]") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x =
      from_vector<float>({1.0f, nan, -2.0f, 3.0f, inf, -1.0f, -inf, 0.5f, 2.0f}, {3, 3});
  const Tensor xc = to(x, kCuda);
  for (const ReduceOpCase& op : reduce_ops()) {
    INFO(op.name);
    const std::vector<double> got = test::values(op.f(xc, {1}, false));
    const std::vector<double> want = test::values(op.f(x, {1}, false));
    REQUIRE(got.size() == 3);
    test::require_same_specials(got, want, 1e-6);
  }
}

TEST_CASE("sum and norm on CUDA over zero elements are zero", "[cuda][kernels][reduce]") {
  const Tensor x = to(Tensor::empty({0, 3}, DType::f32, kCpu), kCuda);
  const Tensor s = sum(x, {0});
  const Tensor n = norm(x, {0}, true);
  const Shape s_shape{3}, n_shape{1, 3};
  REQUIRE(s.shape() == s_shape);
  REQUIRE(n.shape() == n_shape);
  for (double v : test::values(s)) REQUIRE(v == 0.0);
  for (double v : test::values(n)) REQUIRE(v == 0.0);
  REQUIRE_THROWS_WITH(max(x, {0}), Catch::Contains("zero elements"));
}
