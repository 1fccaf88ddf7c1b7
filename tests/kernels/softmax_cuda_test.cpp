// [cuda] tests of softmax and log_softmax: CUDA against the CPU over the last, middle and first
// dimension, on long rows (4099, more than one element per thread), on a transposed view and on
// inputs large enough to overflow exp without the max shift; forward and backward.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "cuda_test_util.h"
#include "kernels/ops.h"

namespace {

using namespace simclr;
using test::kCuda;
using test::Tolerance;

// exp differs by an ulp between the math libraries and the row sums run in another order.
constexpr test::DTypeTolerances kSoftmaxTol{
    .f64 = {1e-11, 1e-12}, .f32 = {5e-5, 5e-6}, .bf16 = {2e-2, 2e-2}, .f16 = {4e-3, 4e-3}};

// Long rows sum more terms: a wider f32 tolerance.
Tolerance softmax_tol(DType dtype, bool long_rows) {
  return long_rows && dtype == DType::f32 ? Tolerance{1e-4, 2e-5} : kSoftmaxTol(dtype);
}

struct SoftmaxCase {
  std::string name;
  Shape stored;
  std::function<Tensor(const Tensor&)> view;
  int64_t dim;
  bool long_rows;
};

Tensor same(const Tensor& t) {
  return t;
}
Tensor transposed(const Tensor& t) {
  return transpose(t, 0, 1);
}
Tensor every_other_column(const Tensor& t) {
  return slice(t, 1, 1, 66, 2);
}
Tensor shifted(const Tensor& t) {
  return add(t, 100.0);
}

const std::vector<SoftmaxCase>& softmax_cases() {
  static const std::vector<SoftmaxCase> cases{
      {"last dim", {7, 33, 5}, same, 2, false},
      {"last dim as -1", {7, 33, 5}, same, -1, false},
      {"middle dim", {7, 33, 5}, same, 1, false},
      {"first dim", {7, 33, 5}, same, 0, false},
      {"middle dim of a transposed view", {33, 7, 5}, transposed, 1, false},
      {"last dim of a stepped slice", {7, 66}, every_other_column, 1, false},
      {"one row of 4099", {4099}, same, 0, true},
      {"rows of 4099", {3, 4099}, same, 1, true},
      {"4099 strided rows of 3", {3, 4099}, same, 0, false},
      {"rows of 300 with inner stride 3", {2, 300, 3}, same, 1, true},
      {"one element", {1, 1}, same, 0, false},
      {"shifted by 100", {7, 33, 5}, shifted, 1, false},
  };
  return cases;
}

}  // namespace

TEST_CASE("softmax and log_softmax on CUDA match the CPU", "[cuda][kernels][softmax]") {
  const DType dtype = GENERATE(DType::f32, DType::f64, DType::bf16, DType::f16);
  uint64_t seed = 10000;
  for (const SoftmaxCase& c : softmax_cases()) {
    for (const bool log : {false, true}) {
      INFO((log ? "log_softmax " : "softmax ") << c.name << " " << dtype_name(dtype));
      const Tensor x = test::random_tensor(c.stored, dtype, ++seed, -3.0, 3.0);
      const auto view = c.view;
      const int64_t dim = c.dim;
      const Tolerance tol = softmax_tol(dtype, c.long_rows);
      test::check_backends(
          [view, dim, log](const std::vector<Tensor>& in) {
            return log ? log_softmax(view(in[0]), dim) : softmax(view(in[0]), dim);
          },
          {x}, {.forward = tol, .backward = tol, .weight_seed = 4545});
    }
  }
}

TEST_CASE("softmax on CUDA sums to one along its dimension", "[cuda][kernels][softmax]") {
  const Tensor x = to(test::random_tensor({7, 33, 5}, DType::f32, 11000, -20.0, 20.0), kCuda);
  for (int64_t dim : {0, 1, 2}) {
    INFO("dim " << dim);
    const Tensor s = sum(softmax(x, dim), {dim});
    for (double v : test::values(s)) REQUIRE(std::abs(v - 1.0) < 1e-5);
    // exp(log_softmax) is softmax.
    SIMCLR_REQUIRE_CLOSE(exp(log_softmax(x, dim)), softmax(x, dim), (Tolerance{2e-5, 1e-7}));
  }
}

TEST_CASE("softmax on CUDA of a row with infinities", "[cuda][kernels][softmax]") {
  // -inf entries get probability 0; the rest share it as on the CPU.
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor x = from_vector<float>({1.0f, -inf, 2.0f, 0.5f, -inf, -1.0f}, {2, 3});
  const Tensor got = softmax(to(x, kCuda), 1);
  const Tensor want = softmax(x, 1);
  SIMCLR_REQUIRE_CLOSE(got, want, (Tolerance{1e-6, 1e-7}));
  const std::vector<double> v = test::values(got);
  REQUIRE(v[1] == 0.0);
  REQUIRE(v[4] == 0.0);
}
