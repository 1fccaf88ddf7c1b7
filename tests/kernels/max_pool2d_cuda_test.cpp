// [cuda] tests of max_pool2d: the CUDA kernels against the CPU reference, bit for bit (both take
// the first maximum in the same scan order and gather gradients in the same order): outputs,
// argmax and gradients for f32, f64, bf16 (many ties) and f16, with padding, overlapping 3x3
// stride-2 windows (the ResNet stem), rectangular windows and odd channel counts.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include "cuda_test_util.h"
#include "kernels/dispatch.h"
#include "kernels/nn_ops.h"
#include "max_pool2d_cases.h"

namespace {

using namespace simclr;
using test::kCpu;
using test::kCuda;

using test::PoolCase;

const std::vector<PoolCase>& pool_cases() {
  static const std::vector<PoolCase> cases{
      {{2, 7, 7, 3}, {3, 3}, {2, 2}, {1, 1}},   {{1, 8, 8, 64}, {2, 2}, {2, 2}, {0, 0}},
      {{3, 5, 6, 17}, {3, 2}, {1, 2}, {1, 1}},  {{2, 9, 4, 5}, {4, 3}, {3, 1}, {2, 0}},
      {{1, 1, 1, 6}, {1, 1}, {1, 1}, {0, 0}},   {{2, 56, 56, 64}, {3, 3}, {2, 2}, {1, 1}},
      {{4, 15, 15, 33}, {3, 3}, {2, 2}, {1, 1}}};
  return cases;
}

PoolShape pool_shape(const PoolCase& c) {
  PoolShape s;
  s.n = c.shape[0];
  s.h = c.shape[1];
  s.w = c.shape[2];
  s.c = c.shape[3];
  s.kernel_h = c.kernel[0];
  s.kernel_w = c.kernel[1];
  s.stride_h = c.stride[0];
  s.stride_w = c.stride[1];
  s.pad_h = c.padding[0];
  s.pad_w = c.padding[1];
  s.p = test::pool_out_size(s.h, s.kernel_h, s.stride_h, s.pad_h);
  s.q = test::pool_out_size(s.w, s.kernel_w, s.stride_w, s.pad_w);
  return s;
}

}  // namespace

TEST_CASE("max_pool2d kernels on CUDA match the CPU bit for bit", "[cuda][kernels][max_pool2d]") {
  const DType dtype = GENERATE(DType::f32, DType::f64, DType::bf16, DType::f16);
  uint64_t seed = 30000;
  for (const PoolCase& c : pool_cases()) {
    INFO(c.shape.str() << " " << dtype_name(dtype));
    const PoolShape s = pool_shape(c);
    const Shape out{s.n, s.p, s.q, s.c};
    const Tensor x = test::random_tensor(c.shape, dtype, ++seed, -2.0, 2.0);
    const Tensor grad_y = test::random_tensor(out, dtype, ++seed);
    const Tensor xc = to(x, kCuda), grad_yc = to(grad_y, kCuda);

    Tensor y = Tensor::empty(out, dtype), argmax = Tensor::empty(out, DType::i32);
    Tensor yc = Tensor::empty(out, dtype, kCuda), argmaxc = Tensor::empty(out, DType::i32, kCuda);
    SIMCLR_DISPATCH(kCpu, max_pool2d_forward, dtype, s, x.data_ptr(), y.data_ptr(),
                    argmax.data<int32_t>(), current_stream(kCpu));
    SIMCLR_DISPATCH(kCuda, max_pool2d_forward, dtype, s, xc.data_ptr(), yc.data_ptr(),
                    argmaxc.data<int32_t>(), current_stream(kCuda));
    test::require_same_bytes(yc, y);
    test::require_same_bytes(argmaxc, argmax);

    Tensor grad_x = Tensor::empty(c.shape, dtype), grad_xc = Tensor::empty(c.shape, dtype, kCuda);
    SIMCLR_DISPATCH(kCpu, max_pool2d_backward, dtype, s, grad_y.data_ptr(), argmax.data<int32_t>(),
                    grad_x.data_ptr(), current_stream(kCpu));
    SIMCLR_DISPATCH(kCuda, max_pool2d_backward, dtype, s, grad_yc.data_ptr(),
                    argmaxc.data<int32_t>(), grad_xc.data_ptr(), current_stream(kCuda));
    test::require_same_bytes(grad_xc, grad_x);
  }
}

TEST_CASE("max_pool2d op on CUDA matches the CPU with autograd", "[cuda][kernels][max_pool2d]") {
  const DType dtype = GENERATE(DType::f32, DType::bf16);
  uint64_t seed = 31000;
  for (const PoolCase& c : pool_cases()) {
    INFO(c.shape.str() << " " << dtype_name(dtype));
    const auto k = c.kernel, s = c.stride, p = c.padding;
    test::check_backends(
        [k, s, p](const std::vector<Tensor>& in) { return max_pool2d(in[0], k, s, p); },
        {test::random_tensor(c.shape, dtype, ++seed, -2.0, 2.0)},
        {.forward = {0, 0}, .backward = {0, 0}, .weight_seed = 4747, .gradient_shapes = true});
  }
}

TEST_CASE("max_pool2d on CUDA propagates NaN and ignores padding", "[cuda][kernels][max_pool2d]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> v(2 * 5 * 5, -3.0f);
  v[2 * 12 + 1] = nan;  // channel 1 at (2, 2)
  const Tensor x = from_vector(v, {1, 5, 5, 2});
  const Tensor got = max_pool2d(to(x, kCuda), {3, 3}, {2, 2}, {1, 1});
  const Tensor want = max_pool2d(x, {3, 3}, {2, 2}, {1, 1});
  test::require_same_specials(test::values(got), test::values(want), 0.0);
  for (double value : test::values(slice(want, 3, 0, 1))) REQUIRE(value == -3.0);
}
