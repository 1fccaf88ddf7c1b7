// [cuda] tests of the binary ops with NumPy broadcasting: forward on CUDA against the CPU for every
// floating dtype, with broadcast and transposed operands, and the gradients of both inputs (summed
// back over broadcast dimensions) for the differentiable ones.
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include "cuda_test_util.h"
#include "kernels/ops.h"

namespace {

using namespace simclr;
using test::check_backends;
using test::kCpu;
using test::kCuda;

// The per-element results are identical (one IEEE operation in the same precision); only the
// gradient sums over broadcast dimensions run in another order. Where a gradient is such a sum,
// the inputs are positive so that its terms share a sign and the sum has no cancellation.
constexpr test::DTypeTolerances kBackwardTol{
    .f64 = {1e-11, 1e-12}, .f32 = {1e-4, 2e-5}, .bf16 = {2e-2, 2e-2}, .f16 = {4e-3, 4e-3}};

// Gradients (of the right shapes, summed back over broadcast dimensions) only where `backward`.
test::BackendCheck backend_check(DType dtype, bool backward) {
  return {.forward = test::tolerance_for(dtype),
          .backward = kBackwardTol(dtype),
          .weight_seed = 4343,
          .gradients = backward,
          .gradient_shapes = true};
}

struct BinaryCase {
  std::string name;
  std::function<Tensor(const Tensor&, const Tensor&)> f;
  bool differentiable;
};

const std::vector<BinaryCase>& binary_cases() {
  static const std::vector<BinaryCase> cases{
      {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }, true},
      {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }, true},
      {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }, true},
      {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); }, true},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }, true},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }, true},
      {"eq", [](const Tensor& a, const Tensor& b) { return eq(a, b); }, false},
      {"gt", [](const Tensor& a, const Tensor& b) { return gt(a, b); }, false},
      {"operators", [](const Tensor& a, const Tensor& b) { return a * b - a / b + b; }, true},
  };
  return cases;
}

// Operand shapes; `transpose_a` stores a as its transpose and multiplies through a view of it.
struct ShapeCase {
  Shape a, b;
  bool transpose_a;
};

const std::vector<ShapeCase>& shape_cases() {
  static const std::vector<ShapeCase> cases{
      {{5, 1, 7}, {1, 6, 1}, false},  // both broadcast
      {{129, 17}, {17}, false},       // b broadcast over rows, with fewer dimensions
      {{129, 17}, {129, 1}, true},    // a transposed, b broadcast over columns
      {{3, 5, 7}, {3, 5, 7}, false},  // same shapes
      {{4097}, {1}, false},           // a long row against one element
      {{1}, {33}, false},             // a broadcast instead
      {{1, 1}, {1, 1}, false},
      {{2, 3, 1, 5}, {4, 1}, true},  // 4-D: a transposed in its last two dimensions
  };
  return cases;
}

Tensor stored(const ShapeCase& s, DType dtype, uint64_t seed, double low, double high) {
  if (!s.transpose_a) return test::random_tensor(s.a, dtype, seed, low, high);
  std::vector<int64_t> dims = s.a.dims();
  std::swap(dims[dims.size() - 1], dims[dims.size() - 2]);
  return test::random_tensor(Shape(dims), dtype, seed, low, high);
}

}  // namespace

TEST_CASE("binary ops on CUDA match the CPU with broadcasting", "[cuda][kernels][binary]") {
  const DType dtype = GENERATE(DType::f32, DType::f64, DType::bf16, DType::f16);
  uint64_t seed = 5000;
  for (const ShapeCase& s : shape_cases()) {
    for (const BinaryCase& c : binary_cases()) {
      INFO(c.name << " " << dtype_name(dtype) << " a " << s.a.str() << (s.transpose_a ? "^T" : "")
                  << " b " << s.b.str());
      // b stays in [0.5, 2) so that division is well away from zero; a is positive when a
      // gradient sums over broadcast dimensions.
      const Shape out = broadcast_shapes(s.a, s.b, "test");
      const bool sums = !(s.a == out) || !(s.b == out);
      const Tensor a = stored(s, dtype, ++seed, sums ? 0.25 : -2.0, 2.0);
      const Tensor b = test::random_tensor(s.b, dtype, ++seed, 0.5, 2.0);
      const bool transpose_a = s.transpose_a;
      const auto f = c.f;
      check_backends(
          [f, transpose_a](const std::vector<Tensor>& in) {
            const Tensor x = transpose_a ? transpose(in[0], -1, -2) : in[0];
            return f(x, in[1]);
          },
          {a, b}, backend_check(dtype, c.differentiable));
    }
  }
}

TEST_CASE("binary ops on CUDA with the broadcast operand first", "[cuda][kernels][binary]") {
  const DType dtype = GENERATE(DType::f32, DType::bf16);
  uint64_t seed = 6000;
  for (const BinaryCase& c : binary_cases()) {
    INFO(c.name << " " << dtype_name(dtype));
    const Tensor a = test::random_tensor({17}, dtype, ++seed, 0.5, 2.0);
    const Tensor b = test::random_tensor({33, 17}, dtype, ++seed, 0.5, 2.0);
    const auto f = c.f;
    check_backends([f](const std::vector<Tensor>& in) { return f(in[0], in[1]); }, {a, b},
                   backend_check(dtype, c.differentiable));
  }
}

TEST_CASE("binary ops on CUDA with sliced operands", "[cuda][kernels][binary]") {
  const DType dtype = GENERATE(DType::f32, DType::f64, DType::f16);
  uint64_t seed = 6500;
  for (const BinaryCase& c : binary_cases()) {
    INFO(c.name << " " << dtype_name(dtype));
    // Every third row of a and a column window of b, each starting at an offset.
    const Tensor a = test::random_tensor({31, 9}, dtype, ++seed, -2.0, 2.0);
    const Tensor b = test::random_tensor({9, 13}, dtype, ++seed, 0.5, 2.0);
    const auto f = c.f;
    check_backends(
        [f](const std::vector<Tensor>& in) {
          return f(slice(in[0], 0, 1, 31, 3), transpose(slice(in[1], 1, 2, 12), 0, 1));
        },
        {a, b}, backend_check(dtype, c.differentiable));
  }
}

TEST_CASE("eq gt maximum and minimum on CUDA treat ties like the CPU", "[cuda][kernels][binary]") {
  const DType dtype = GENERATE(DType::f32, DType::f64, DType::bf16, DType::f16);
  INFO(dtype_name(dtype));
  // Row 5 of a compared with itself, broadcast over the rows: a tie in every column of row 5.
  const Tensor a = test::random_tensor({129, 17}, dtype, 7000, -2.0, 2.0);
  const Tensor ac = to(a, kCuda);
  const Tensor eq_c = eq(ac, slice(ac, 0, 5, 6));
  SIMCLR_REQUIRE_CLOSE(eq_c, eq(a, slice(a, 0, 5, 6)), (test::Tolerance{0, 0}));
  SIMCLR_REQUIRE_CLOSE(gt(ac, slice(ac, 0, 5, 6)), gt(a, slice(a, 0, 5, 6)),
                       (test::Tolerance{0, 0}));
  const std::vector<double> hits = test::values(eq_c);
  for (int64_t c = 0; c < 17; ++c) REQUIRE(hits[static_cast<size_t>(5 * 17 + c)] == 1.0);
  // A tie splits the gradient equally between the two inputs.
  for (const bool use_max : {true, false}) {
    INFO((use_max ? "maximum" : "minimum"));
    const Tensor b = clone(a);
    check_backends(
        [use_max](const std::vector<Tensor>& in) {
          return use_max ? maximum(in[0], in[1]) : minimum(in[0], in[1]);
        },
        {a, b}, backend_check(dtype, true));
  }
}

TEST_CASE("binary ops on CUDA reject mismatched shapes and dtypes", "[cuda][kernels][binary]") {
  const Tensor a = ones({3, 4}, DType::f32, kCuda);
  REQUIRE_THROWS_WITH(add(a, ones({5}, DType::f32, kCuda)), Catch::Contains("add"));
  REQUIRE_THROWS_WITH(mul(a, ones({3, 4}, DType::f64, kCuda)), Catch::Contains("f64"));
  REQUIRE_THROWS_WITH(sub(a, ones({3, 4}, DType::f32, kCpu)), Catch::Contains("cuda:0"));
}
