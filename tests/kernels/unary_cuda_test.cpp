// [cuda] tests of the unary ops and their scalar forms: forward and backward on CUDA against the
// CPU reference, for every floating dtype, contiguous and through strided views, at odd sizes.
// Both backends evaluate the same per-element function (kernels/elementwise_math.h); exp, log,
// tanh and pow come from different math libraries and may differ by an ulp or two.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "cuda_test_util.h"
#include "kernels/ops.h"

namespace {

using namespace simclr;
using test::check_backends;
using test::kCpu;
using test::kCuda;

// One-ulp differences in float before rounding; in bf16/f16 that can flip a rounding.
constexpr test::DTypeTolerances kForwardTol{
    .f64 = {1e-12, 1e-12}, .f32 = {1e-5, 1e-6}, .bf16 = {2e-2, 2e-2}, .f16 = {4e-3, 2e-3}};

// Gradients multiply a flipped output by up to three factors.
constexpr test::DTypeTolerances kBackwardTol{
    .f64 = {1e-12, 1e-12}, .f32 = {1e-5, 1e-6}, .bf16 = {3e-2, 3e-2}, .f16 = {6e-3, 3e-3}};

test::BackendCheck backend_check(DType dtype) {
  return {.forward = kForwardTol(dtype), .backward = kBackwardTol(dtype), .weight_seed = 4242};
}

struct UnaryCase {
  std::string name;
  std::function<Tensor(const Tensor&)> f;
  double low, high;  // input range: positive where the op needs it
};

const std::vector<UnaryCase>& unary_cases() {
  static const std::vector<UnaryCase> cases{
      {"neg", [](const Tensor& x) { return neg(x); }, -2.0, 2.0},
      {"exp", [](const Tensor& x) { return exp(x); }, -2.0, 2.0},
      {"log", [](const Tensor& x) { return log(x); }, 0.5, 2.0},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, 0.5, 2.0},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }, 0.5, 2.0},
      {"abs", [](const Tensor& x) { return abs(x); }, -2.0, 2.0},
      {"relu", [](const Tensor& x) { return relu(x); }, -2.0, 2.0},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, -3.0, 3.0},
      {"tanh", [](const Tensor& x) { return tanh(x); }, -1.0, 1.0},
      {"square", [](const Tensor& x) { return square(x); }, -2.0, 2.0},
      {"add scalar", [](const Tensor& x) { return add(x, 0.75); }, -2.0, 2.0},
      {"mul scalar", [](const Tensor& x) { return mul(x, -1.25); }, -2.0, 2.0},
      {"pow 2.5", [](const Tensor& x) { return pow(x, 2.5); }, 0.5, 2.0},
      {"pow -1.5", [](const Tensor& x) { return pow(x, -1.5); }, 0.5, 2.0},
      {"pow 2", [](const Tensor& x) { return pow(x, 2.0); }, -2.0, 2.0},
      {"pow 0", [](const Tensor& x) { return pow(x, 0.0); }, 0.5, 2.0},
      {"operators", [](const Tensor& x) { return (2.0 * x - 1.0) / 4.0 + (-x); }, -2.0, 2.0},
  };
  return cases;
}

}  // namespace

TEST_CASE("unary ops on CUDA match the CPU on contiguous inputs", "[cuda][kernels][unary]") {
  const DType dtype = GENERATE(DType::f32, DType::f64, DType::bf16, DType::f16);
  uint64_t seed = 1000;
  for (const UnaryCase& c : unary_cases()) {
    INFO(c.name << " " << dtype_name(dtype));
    const Tensor x = test::random_tensor({3, 5, 7}, dtype, ++seed, c.low, c.high);
    check_backends([&c](const std::vector<Tensor>& in) { return c.f(in[0]); }, {x},
                   backend_check(dtype));
  }
}

TEST_CASE("unary ops on CUDA match the CPU on transposed and sliced views",
          "[cuda][kernels][unary]") {
  const DType dtype = GENERATE(DType::f32, DType::f64, DType::bf16, DType::f16);
  uint64_t seed = 2000;
  for (const UnaryCase& c : unary_cases()) {
    INFO(c.name << " " << dtype_name(dtype));
    // [17, 129] seen as [129, 17]: the gradient goes back through the transpose.
    const Tensor x = test::random_tensor({17, 129}, dtype, ++seed, c.low, c.high);
    check_backends([&c](const std::vector<Tensor>& in) { return c.f(transpose(in[0], 0, 1)); }, {x},
                   backend_check(dtype));
    // Every other column of rows 1..5 of a [7, 33]: the gradient is zero elsewhere.
    const Tensor y = test::random_tensor({7, 33}, dtype, ++seed, c.low, c.high);
    check_backends(
        [&c](const std::vector<Tensor>& in) {
          return c.f(slice(slice(in[0], 0, 1, 6), 1, 0, 33, 2));
        },
        {y}, backend_check(dtype));
  }
}

TEST_CASE("unary ops on CUDA match the CPU at odd sizes", "[cuda][kernels][unary]") {
  // Every op shares one launch path (kernels/cuda/launch.cuh); the sizes sweep runs the ops whose
  // math differs most between the backends, and the trivial one.
  const std::vector<std::string> names{"neg", "exp", "log", "sigmoid", "tanh", "pow 2.5"};
  uint64_t seed = 3000;
  for (int64_t n : {1, 3, 17, 33, 129, 1000, 4097}) {
    for (const UnaryCase& c : unary_cases()) {
      if (std::find(names.begin(), names.end(), c.name) == names.end()) continue;
      INFO(c.name << " n " << n);
      const Tensor x = test::random_tensor({n}, DType::f32, ++seed, c.low, c.high);
      check_backends([&c](const std::vector<Tensor>& in) { return c.f(in[0]); }, {x},
                     backend_check(DType::f32));
      // The same count of elements at a stride of 3 (elements 2, 5, 8, ... of a longer row).
      const Tensor y = test::random_tensor({3 * n + 2}, DType::f32, ++seed, c.low, c.high);
      check_backends([&c](const std::vector<Tensor>& in) { return c.f(slice(in[0], 0, 2, -1, 3)); },
                     {y}, backend_check(DType::f32));
    }
  }
}

TEST_CASE("unary ops on CUDA handle one-element and empty tensors", "[cuda][kernels][unary]") {
  const DType dtype = GENERATE(DType::f32, DType::bf16);
  const Tensor one = test::random_tensor({1, 1}, dtype, 7, 0.5, 2.0);
  check_backends([](const std::vector<Tensor>& in) { return exp(in[0]); }, {one},
                 backend_check(dtype));
  const Tensor scalar = test::random_tensor(Shape{}, dtype, 8, 0.5, 2.0);
  check_backends([](const std::vector<Tensor>& in) { return sqrt(in[0]); }, {scalar},
                 backend_check(dtype));
  const Tensor empty = to(Tensor::empty({0, 5}, dtype, kCpu), kCuda);
  const Tensor out = tanh(empty);
  REQUIRE(out.device() == kCuda);
  REQUIRE(out.shape() == empty.shape());
}

TEST_CASE("unary ops on CUDA propagate NaN and infinity like the CPU", "[cuda][kernels][unary]") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x =
      from_vector<float>({0.0f, -0.0f, 1.0f, -1.0f, inf, -inf, nan, 80.0f, -80.0f, 1e-30f}, {10});
  const Tensor xc = to(x, kCuda);
  const std::vector<std::function<Tensor(const Tensor&)>> ops{
      [](const Tensor& t) { return exp(t); },  [](const Tensor& t) { return sigmoid(t); },
      [](const Tensor& t) { return tanh(t); }, [](const Tensor& t) { return relu(t); },
      [](const Tensor& t) { return abs(t); },  [](const Tensor& t) { return square(t); },
      [](const Tensor& t) { return neg(t); },  [](const Tensor& t) { return mul(t, 0.5); },
  };
  for (size_t i = 0; i < ops.size(); ++i) {
    INFO("op " << i);
    const std::vector<double> got = test::values(ops[i](xc));
    const std::vector<double> want = test::values(ops[i](x));
    REQUIRE(got.size() == want.size());
    test::require_same_specials(got, want, 1e-6);
  }
}
