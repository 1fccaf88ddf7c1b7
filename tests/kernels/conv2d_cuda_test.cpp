// [cuda] tests of conv2d on cuDNN against the CPU (im2col + OpenBLAS): forward, the gradient of x
// (backward data), of the weight (backward filter) and of the bias, at odd shapes (1x1, 3x3, 7x7
// and 3x5 kernels; strides, padding, dilation; 1 to 16 channels) and at ResNet shapes where tensor
// cores engage, in f32, f64, bf16 and f16; deterministic mode (bit-identical reruns); f32 without
// TF32; operands at an offset into their storage. cuDNN sums in another order and bf16/f16 round
// from fp32 accumulators on both sides, so results agree to a tolerance scaled by the magnitude.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "conv2d_cases.h"
#include "core/determinism.h"
#include "cuda_test_util.h"
#include "kernels/nn_ops.h"
#include "kernels/ops.h"

namespace {

using namespace simclr;
using test::kCpu;
using test::kCuda;
using test::Tolerance;

constexpr test::DTypeTolerances kConvTol{
    .f64 = {1e-11, 1e-11}, .f32 = {1e-4, 1e-4}, .bf16 = {2e-2, 2e-2}, .f16 = {4e-3, 4e-3}};

using test::ConvCase;
using test::opts;

// The shared odd shapes, then channel counts that tensor-core algorithms take.
const std::vector<ConvCase>& cuda_conv_cases() {
  static const std::vector<ConvCase> cases = [] {
    std::vector<ConvCase> c = test::conv_cases();
    c.insert(c.end(),
             {
                 {"ResNet 3x3 64 to 64 padding 1", 4, 14, 14, 64, 64, 3, 3, opts({1, 1}, {1, 1})},
                 {"ResNet 1x1 128 to 64 stride 2", 4, 14, 14, 128, 64, 1, 1, opts({2, 2}, {0, 0})},
                 {"SimCLR CPU default 3x3 16 to 16", 8, 28, 28, 16, 16, 3, 3, opts({1, 1}, {1, 1})},
             });
    return c;
  }();
  return cases;
}

struct Leaves {
  Tensor x, w, b;
};

Leaves leaves(const Tensor& x, const Tensor& w, const Tensor& b, Device device) {
  // Fresh leaves: to() returns its argument when it is already on `device`.
  Leaves l{to(x, device).detach(), to(w, device).detach(),
           b.defined() ? to(b, device).detach() : Tensor()};
  l.x.set_requires_grad(true);
  l.w.set_requires_grad(true);
  if (l.b.defined()) l.b.set_requires_grad(true);
  return l;
}

struct Run {
  Tensor y, grad_x, grad_w, grad_b;
};

// Forward and backward (from grad_y) on `device`.
Run run_on(Device device, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& gy,
           const Conv2dOptions& o) {
  const Leaves l = leaves(x, w, b, device);
  const Tensor y = conv2d(l.x, l.w, l.b, o);
  REQUIRE(y.device() == device);
  y.backward(to(gy, device));
  return {y, l.x.grad(), l.w.grad(), l.b.defined() ? l.b.grad() : Tensor()};
}

void check_against_cpu(const Tensor& x, const Tensor& w, const Tensor& b, const Conv2dOptions& o,
                       uint64_t seed) {
  const DType dtype = x.dtype();
  INFO(dtype_name(dtype) << " x " << x.shape().str() << " w " << w.shape().str());
  const Tolerance tol = kConvTol(dtype);
  Tensor gy;
  {
    NoGradGuard no_grad;
    gy = test::random_tensor(conv2d(x, w, Tensor(), o).shape(), dtype, seed);
  }
  const Run cpu = run_on(kCpu, x, w, b, gy, o);
  const Run gpu = run_on(kCuda, x, w, b, gy, o);
  REQUIRE(gpu.y.dtype() == dtype);
  {
    INFO("forward");
    SIMCLR_REQUIRE_CLOSE(gpu.y, cpu.y, test::scaled(tol, cpu.y));
  }
  {
    INFO("gradient of x (backward data)");
    REQUIRE(gpu.grad_x.device() == kCuda);
    SIMCLR_REQUIRE_CLOSE(gpu.grad_x, cpu.grad_x, test::scaled(tol, cpu.grad_x));
  }
  {
    INFO("gradient of the weight (backward filter)");
    REQUIRE(gpu.grad_w.device() == kCuda);
    SIMCLR_REQUIRE_CLOSE(gpu.grad_w, cpu.grad_w, test::scaled(tol, cpu.grad_w));
  }
  if (b.defined()) {
    INFO("gradient of the bias");
    SIMCLR_REQUIRE_CLOSE(gpu.grad_b, cpu.grad_b, test::scaled(tol, cpu.grad_b));
  }
}

// Turns deterministic mode on for a scope.
class DeterministicScope {
 public:
  DeterministicScope() : previous_(deterministic()) { set_deterministic(true); }
  ~DeterministicScope() { set_deterministic(previous_); }
  DeterministicScope(const DeterministicScope&) = delete;
  DeterministicScope& operator=(const DeterministicScope&) = delete;

 private:
  bool previous_;
};

}  // namespace

TEST_CASE("conv2d on CUDA matches the CPU forward and backward", "[cuda][kernels][conv2d]") {
  const DType dtype = GENERATE(DType::f32, DType::f64, DType::bf16, DType::f16);
  uint64_t seed = 22000;
  bool with_bias = false;
  for (const ConvCase& c : cuda_conv_cases()) {
    INFO(c.name);
    const Tensor x = test::random_tensor({c.n, c.h, c.w, c.c}, dtype, seed);
    const Tensor w = test::random_tensor({c.k, c.r, c.s, c.c}, dtype, seed + 1);
    const Tensor b = with_bias ? test::random_tensor({c.k}, dtype, seed + 2) : Tensor();
    check_against_cpu(x, w, b, c.options, seed + 3);
    with_bias = !with_bias;
    seed += 10;
  }
}

TEST_CASE("conv2d on CUDA in deterministic mode repeats bit for bit", "[cuda][kernels][conv2d]") {
  const DType dtype = GENERATE(DType::f32, DType::bf16, DType::f64);
  const DeterministicScope scope;
  const std::vector<ConvCase> cases{
      {"3x3 32 to 32 padding 1", 8, 16, 16, 32, 32, 3, 3, opts({1, 1}, {1, 1})},
      {"3x3 stride 2 16 to 32", 16, 28, 28, 16, 32, 3, 3, opts({2, 2}, {1, 1})},
      {"1x1 64 to 32", 8, 14, 14, 64, 32, 1, 1, opts({1, 1}, {0, 0})},
  };
  uint64_t seed = 23000;
  for (const ConvCase& c : cases) {
    INFO(c.name << " " << dtype_name(dtype));
    const Tensor x = test::random_tensor({c.n, c.h, c.w, c.c}, dtype, seed);
    const Tensor w = test::random_tensor({c.k, c.r, c.s, c.c}, dtype, seed + 1);
    check_against_cpu(x, w, Tensor(), c.options, seed + 2);
    Tensor gy;
    {
      NoGradGuard no_grad;
      gy = test::random_tensor(conv2d(x, w, Tensor(), c.options).shape(), dtype, seed + 3);
    }
    const Run first = run_on(kCuda, x, w, Tensor(), gy, c.options);
    const Run second = run_on(kCuda, x, w, Tensor(), gy, c.options);
    test::require_same_bytes(second.y, first.y);
    test::require_same_bytes(second.grad_x, first.grad_x);
    test::require_same_bytes(second.grad_w, first.grad_w);
    seed += 10;
  }
}

TEST_CASE("conv2d on CUDA computes in full f32 precision", "[cuda][kernels][conv2d]") {
  // TF32 would keep only 10 mantissa bits of each input: 1 + 2^-12 would multiply as 1.
  const double v = 1.0 + 0x1p-12;
  Tensor x = full({2, 6, 6, 64}, v, DType::f32, kCuda);
  Tensor w = full({8, 3, 3, 64}, v, DType::f32, kCuda);
  x.set_requires_grad(true);
  w.set_requires_grad(true);
  const Tensor y = conv2d(x, w, Tensor());  // [2, 4, 4, 8]
  const double fv = static_cast<double>(static_cast<float>(v));
  const double taps = 3 * 3 * 64;
  for (double e : test::values(y)) REQUIRE(std::abs(e - taps * fv * fv) <= 1e-6 * taps);
  sum(mul(y, full(y.shape(), v, DType::f32, kCuda))).backward();
  // Each weight element meets 2 * 4 * 4 inputs; each interior input meets up to 9 taps * 8 filters.
  for (double e : test::values(w.grad())) REQUIRE(std::abs(e - 32 * fv * fv) <= 1e-6 * 32);
  const std::vector<double> gx = test::values(x.grad());
  const double corner = 8 * fv * fv;  // x[b, 0, 0, ch] is under one tap of each filter
  REQUIRE(std::abs(gx[0] - corner) <= 1e-6 * 8);
}

TEST_CASE("conv2d on CUDA with operands at an offset into their storage",
          "[cuda][kernels][conv2d]") {
  const DType dtype = GENERATE(DType::f32, DType::bf16, DType::f64);
  // Batches 1.. of x and filters 1.. of the weight: contiguous views that do not start at the
  // beginning of their allocation (16-byte aligned with 8 channels, 2-byte aligned in bf16 with 5).
  for (const int64_t c : {8, 5}) {
    INFO(c << " channels");
    const Tensor xs = test::random_tensor({4, 9, 7, c}, dtype, 24000 + static_cast<uint64_t>(c));
    const Tensor ws = test::random_tensor({7, 3, 3, c}, dtype, 24100 + static_cast<uint64_t>(c));
    const Tensor x = contiguous(slice(xs, 0, 1, 4));
    const Tensor w = contiguous(slice(ws, 0, 1, 7));
    const Tensor xc = slice(to(xs, kCuda), 0, 1, 4);
    const Tensor wc = slice(to(ws, kCuda), 0, 1, 7);
    REQUIRE(xc.offset() != 0);
    REQUIRE(wc.offset() != 0);
    const Conv2dOptions o = opts({1, 1}, {1, 1});
    const Tensor y = conv2d(x, w, Tensor(), o);
    SIMCLR_REQUIRE_CLOSE(conv2d(xc, wc, Tensor(), o), y, test::scaled(kConvTol(dtype), y));
  }
}

TEST_CASE("conv2d on CUDA rejects operands on two devices", "[cuda][kernels][conv2d]") {
  const Tensor x = ones({1, 5, 5, 3}, DType::f32, kCuda);
  REQUIRE_THROWS_WITH(conv2d(x, ones({2, 3, 3, 3}, DType::f32, kCpu), Tensor()),
                      Catch::Contains("cuda:0") && Catch::Contains("cpu"));
  REQUIRE_THROWS_WITH(conv2d(x, ones({2, 3, 3, 3}, DType::f32, kCuda), ones({2}, DType::f32, kCpu)),
                      Catch::Contains("cuda:0") && Catch::Contains("cpu"));
  REQUIRE_THROWS_WITH(conv2d(x, ones({2, 3, 3, 4}, DType::f32, kCuda), Tensor()),
                      Catch::Contains("input channels"));
}
