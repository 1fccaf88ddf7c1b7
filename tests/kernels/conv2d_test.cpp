// conv2d on the CPU (im2col + OpenBLAS) against a direct convolution written as plain loops in
// fp64: forward, the gradient of x (backward data) and of the weight (backward filter), at odd
// shapes (1x1, 3x3, 7x7 and 3x5 kernels; strides, padding and dilation; 1 to 16 channels), through
// the 1x1 fast path, backward data both as a forward convolution (stride 1, 8+ channels) and
// through col2im, and through several chunks of rows; gradcheck; bias; views; errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "conv2d_cases.h"
#include "kernels/backends.h"
#include "kernels/gradcheck.h"
#include "kernels/nn_ops.h"
#include "kernels/ops.h"
#include "test_util.h"

using namespace simclr;

namespace {

using test::ConvCase;
using test::opts;

int64_t out_size(int64_t in, int64_t pad, int64_t dil, int64_t kernel, int64_t stride) {
  return (in + 2 * pad - dil * (kernel - 1) - 1) / stride + 1;
}

struct Reference {
  Tensor y, grad_x, grad_w;
};

// The convolution, the gradient of x and the gradient of the weight by direct loops in fp64:
// y[b, i, j, m] = sum over (u, v, ch) of x[b, i*sh - ph + u*dh, j*sw - pw + v*dw, ch] w[m, u, v,
// ch].
Reference direct(const Tensor& xt, const Tensor& wt, const Tensor& gyt, const Conv2dOptions& o) {
  const int64_t n = xt.size(0), h = xt.size(1), w = xt.size(2), c = xt.size(3);
  const int64_t k = wt.size(0), r = wt.size(1), s = wt.size(2);
  const int64_t p = out_size(h, o.padding[0], o.dilation[0], r, o.stride[0]);
  const int64_t q = out_size(w, o.padding[1], o.dilation[1], s, o.stride[1]);
  const std::vector<double> x = test::values(xt), wv = test::values(wt), gy = test::values(gyt);
  std::vector<double> y(static_cast<size_t>(n * p * q * k)), gx(x.size()), gw(wv.size());
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < p; ++i)
      for (int64_t j = 0; j < q; ++j)
        for (int64_t m = 0; m < k; ++m) {
          const size_t yi = static_cast<size_t>(((b * p + i) * q + j) * k + m);
          for (int64_t u = 0; u < r; ++u)
            for (int64_t v = 0; v < s; ++v) {
              const int64_t ih = i * o.stride[0] - o.padding[0] + u * o.dilation[0];
              const int64_t iw = j * o.stride[1] - o.padding[1] + v * o.dilation[1];
              if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
              for (int64_t ch = 0; ch < c; ++ch) {
                const size_t xi = static_cast<size_t>(((b * h + ih) * w + iw) * c + ch);
                const size_t wi = static_cast<size_t>(((m * r + u) * s + v) * c + ch);
                y[yi] += x[xi] * wv[wi];
                gx[xi] += gy[yi] * wv[wi];
                gw[wi] += gy[yi] * x[xi];
              }
            }
        }
  return {from_vector(y, Shape{n, p, q, k}), from_vector(gx, xt.shape()),
          from_vector(gw, wt.shape())};
}

test::Tolerance conv_tolerance(DType dtype) {
  switch (dtype) {
    case DType::f64:
      return {1e-11, 1e-12};
    case DType::f32:
      return {1e-5, 1e-5};
    case DType::bf16:
      return {8e-3, 1e-3};  // fp32 accumulation, one rounding to 8 mantissa bits
    default:
      return {2e-3, 1e-3};
  }
}

// conv2d and its two gradients in `dtype` against the direct loops on the same (rounded) inputs.
void check_against_direct(const Tensor& x64, const Tensor& w64, const Conv2dOptions& o, DType dtype,
                          uint64_t seed) {
  INFO(dtype_name(dtype));
  // Fresh leaves (to() returns its argument when the dtype already matches).
  Tensor x = to(x64, dtype).detach(), w = to(w64, dtype).detach();
  x.set_requires_grad(true);
  w.set_requires_grad(true);
  const Tensor y = conv2d(x, w, Tensor(), o);
  REQUIRE(y.dtype() == dtype);
  const Tensor gy = test::random_tensor(y.shape(), dtype, seed);
  y.backward(gy);
  const Reference ref = direct(x, w, gy, o);
  const auto expected = [dtype](const Tensor& t) { return dtype == DType::f64 ? t : to(t, dtype); };
  const test::Tolerance tol = conv_tolerance(dtype);
  {
    INFO("forward");
    SIMCLR_REQUIRE_CLOSE(y, expected(ref.y), test::scaled(tol, ref.y));
  }
  {
    INFO("gradient of x (backward data)");
    SIMCLR_REQUIRE_CLOSE(x.grad(), expected(ref.grad_x), test::scaled(tol, ref.grad_x));
  }
  {
    INFO("gradient of the weight (backward filter)");
    SIMCLR_REQUIRE_CLOSE(w.grad(), expected(ref.grad_w), test::scaled(tol, ref.grad_w));
  }
}

Tensor input(const Shape& shape, uint64_t seed) {
  return test::random_tensor(shape, DType::f64, seed);
}

}  // namespace

TEST_CASE("conv2d matches a direct convolution at odd shapes", "[kernels]") {
  const DType dtype = GENERATE(DType::f64, DType::f32, DType::bf16, DType::f16);
  uint64_t seed = 20000;
  for (const ConvCase& c : test::conv_cases()) {
    INFO(c.name);
    const Tensor x = input({c.n, c.h, c.w, c.c}, seed);
    const Tensor w = input({c.k, c.r, c.s, c.c}, seed + 1);
    check_against_direct(x, w, c.options, dtype, seed + 2);
    seed += 10;
  }
}

TEST_CASE("conv2d direct kernels at multiples of 16 output channels", "[kernels]") {
  // f32 (and bf16/f16, computed in f32) with k % 16 == 0 take the direct kernels on CPUs with
  // AVX-512 (kernels/cpu/conv2d_direct.cpp): every tile shape (1, 2 and 4 vectors of output
  // channels; 1 to 14 pixels, with the last tile overlapping the one before), input
  // channels that no tile divides, strides, dilation and padding; stride-1 backward data runs
  // through them as a forward convolution when c % 16 == 0 too.
  const std::vector<ConvCase> cases{
      {"3x3 16 -> 16, q = 11", 2, 9, 11, 16, 16, 3, 3, opts({1, 1}, {1, 1})},
      {"3x3 16 -> 16, q = 17", 2, 5, 17, 16, 16, 3, 3, opts({1, 1}, {1, 1})},
      {"3x3 64 -> 64 at 7x7", 3, 7, 7, 64, 64, 3, 3, opts({1, 1}, {1, 1})},
      {"3x3 stem 1 -> 16", 3, 7, 13, 1, 16, 3, 3, opts({1, 1}, {1, 1})},
      {"3x3 stride 2 5 -> 32", 2, 11, 9, 5, 32, 3, 3, opts({2, 2}, {1, 1})},
      {"1x1 stride 2 32 -> 48", 2, 7, 7, 32, 48, 1, 1, opts({2, 2}, {0, 0})},
      {"3x3 dilation 2 padding 2 3 -> 64", 1, 6, 5, 3, 64, 3, 3, opts({1, 1}, {2, 2}, {2, 2})},
      {"3x3 128 -> 128 at 4x4", 2, 4, 4, 128, 128, 3, 3, opts({1, 1}, {1, 1})},
      {"3x5 stride 1x2 padding 1x2 32 -> 16", 2, 5, 13, 32, 16, 3, 5, opts({1, 2}, {1, 2})},
      {"3x3 no padding 48 -> 96", 1, 6, 7, 48, 96, 3, 3, opts({1, 1}, {0, 0})},
  };
  const DType dtype = GENERATE(DType::f32, DType::bf16);
  uint64_t seed = 22000;
  for (const ConvCase& c : cases) {
    INFO(c.name);
    const Tensor x = input({c.n, c.h, c.w, c.c}, seed);
    const Tensor w = input({c.k, c.r, c.s, c.c}, seed + 1);
    check_against_direct(x, w, c.options, dtype, seed + 2);
    seed += 10;
  }
}

TEST_CASE("conv2d f32 repeats bit for bit", "[kernels]") {
  // The thread pool splits images and sums backward-filter partials in a fixed order.
  const Tensor x = to(input({37, 9, 7, 16}, 22100), DType::f32);
  const Tensor w = to(input({32, 3, 3, 16}, 22101), DType::f32);
  const Tensor gy = test::random_tensor({37, 9, 7, 32}, DType::f32, 22102);
  ConvShape g;
  g.n = 37, g.h = g.p = 9, g.w = g.q = 7, g.c = 16, g.k = 32, g.r = g.s = 3, g.pad_h = g.pad_w = 1;
  std::vector<std::vector<float>> runs;
  for (int run = 0; run < 3; ++run) {
    Tensor gw = test::random_tensor(w.shape(), DType::f32, 22103 + run);  // poisoned
    cpu::conv2d_backward_filter(DType::f32, g, x.data_ptr(), gy.data_ptr(), gw.data_ptr(),
                                Stream{});
    runs.push_back(to_vector<float>(gw));
  }
  REQUIRE(runs[0] == runs[1]);
  REQUIRE(runs[0] == runs[2]);
}

TEST_CASE("conv2d output size follows the PyTorch formula", "[kernels]") {
  for (const ConvCase& c : test::conv_cases()) {
    INFO(c.name);
    const Tensor y =
        conv2d(ones({c.n, c.h, c.w, c.c}), ones({c.k, c.r, c.s, c.c}), Tensor(), c.options);
    const Conv2dOptions& o = c.options;
    REQUIRE(y.shape() ==
            Shape({c.n, out_size(c.h, o.padding[0], o.dilation[0], c.r, o.stride[0]),
                   out_size(c.w, o.padding[1], o.dilation[1], c.s, o.stride[1]), c.k}));
  }
}

TEST_CASE("conv2d splits a large im2col into chunks of rows", "[kernels]") {
  // 77 MB of cols in f64 (3 * 64 * 64 output pixels of 7 * 7 * 16 taps, or 12 * 32 * 32 with
  // stride 2): several chunks for any chunk size up to 64 MiB, with boundaries inside images.
  // Stride 1 runs backward data as a forward convolution, stride 2 through col2im.
  const Tensor w = input({5, 7, 7, 16}, 21001);
  {
    INFO("stride 1");
    check_against_direct(input({3, 64, 64, 16}, 21000), w, opts({1, 1}, {3, 3}), DType::f64, 21002);
  }
  {
    INFO("stride 2");
    check_against_direct(input({12, 64, 64, 16}, 21003), w, opts({2, 2}, {3, 3}), DType::f64,
                         21004);
  }
}

TEST_CASE("conv2d 1x1 fast path at a larger batch", "[kernels]") {
  // A ResNet bottleneck projection: 1x1, stride 1, no padding reads x as the cols matrix.
  const Tensor x = input({8, 14, 14, 32}, 21100);
  const Tensor w = input({24, 1, 1, 32}, 21101);
  check_against_direct(x, w, Conv2dOptions{}, DType::f32, 21102);
  check_against_direct(x, w, Conv2dOptions{}, DType::f64, 21103);
}

TEST_CASE("conv2d adds the bias and its gradient sums grad_y", "[kernels]") {
  const Conv2dOptions o = opts({2, 1}, {1, 1});
  Tensor x = input({3, 6, 5, 4}, 21200);
  Tensor w = input({7, 3, 3, 4}, 21201);
  Tensor b = input({7}, 21202);
  x.set_requires_grad(true);
  w.set_requires_grad(true);
  b.set_requires_grad(true);
  const Tensor y = conv2d(x, w, b, o);
  const Tensor gy = test::random_tensor(y.shape(), DType::f64, 21203);
  y.backward(gy);
  const Reference ref = direct(x, w, gy, o);
  const test::Tolerance tol{1e-12, 1e-12};
  SIMCLR_REQUIRE_CLOSE(y, add(ref.y, b.detach()), tol);
  SIMCLR_REQUIRE_CLOSE(b.grad(), sum(gy, {0, 1, 2}), tol);
  SIMCLR_REQUIRE_CLOSE(x.grad(), ref.grad_x, tol);
  SIMCLR_REQUIRE_CLOSE(w.grad(), ref.grad_w, tol);
}

TEST_CASE("gradcheck conv2d across stride padding and dilation", "[kernels][gradcheck]") {
  const std::vector<std::pair<const char*, Conv2dOptions>> options{
      {"defaults", Conv2dOptions{}},
      {"stride 2", opts({2, 2}, {0, 0})},
      {"padding 1", opts({1, 1}, {1, 1})},
      {"dilation 2", opts({1, 1}, {0, 0}, {2, 2})},
      {"stride 2x1 padding 1x2 dilation 1x2", opts({2, 1}, {1, 2}, {1, 2})},
  };
  uint64_t seed = 21300;
  for (const auto& [name, o] : options) {
    INFO(name);
    const Conv2dOptions opt = o;
    const auto with_bias = [opt](const std::vector<Tensor>& in) {
      return conv2d(in[0], in[1], in[2], opt);
    };
    const auto without_bias = [opt](const std::vector<Tensor>& in) {
      return conv2d(in[0], in[1], Tensor(), opt);
    };
    {
      const GradcheckResult r = gradcheck(
          with_bias,
          {input({2, 6, 7, 3}, seed), input({2, 3, 2, 3}, seed + 1), input({2}, seed + 2)});
      INFO(r.message);
      REQUIRE(r.ok);
    }
    {
      // 1x1 filters: the fast path when stride 1 and no padding.
      const GradcheckResult r =
          gradcheck(without_bias, {input({2, 4, 5, 3}, seed + 3), input({4, 1, 1, 3}, seed + 4)});
      INFO(r.message);
      REQUIRE(r.ok);
    }
    seed += 10;
  }
}

TEST_CASE("conv2d reads non-contiguous views", "[kernels]") {
  // x stored NCHW and weight stored as PyTorch's [k, c, r, s], both permuted into our layouts.
  const Tensor x_nchw = input({2, 3, 7, 6}, 21400);
  const Tensor w_kcrs = input({4, 3, 3, 2}, 21401);
  const Tensor x = permute(x_nchw, {0, 2, 3, 1});
  const Tensor w = permute(w_kcrs, {0, 2, 3, 1});
  REQUIRE_FALSE(x.is_contiguous());
  const Conv2dOptions o = opts({1, 2}, {1, 1});
  SIMCLR_REQUIRE_CLOSE(conv2d(x, w, Tensor(), o), conv2d(contiguous(x), contiguous(w), Tensor(), o),
                       (test::Tolerance{0, 0}));
  Tensor xs = x_nchw.detach();
  xs.set_requires_grad(true);
  const Tensor y = conv2d(permute(xs, {0, 2, 3, 1}), w, Tensor(), o);
  sum(y).backward();
  REQUIRE(xs.grad().shape() == x_nchw.shape());
}

TEST_CASE("conv2d with an empty batch or zero channels", "[kernels]") {
  const Tensor empty_batch = conv2d(zeros({0, 5, 5, 3}), ones({4, 3, 3, 3}), ones({4}));
  REQUIRE(empty_batch.shape() == Shape({0, 3, 3, 4}));
  Tensor x = zeros({2, 5, 5, 0});
  Tensor w = zeros({4, 3, 3, 0});
  x.set_requires_grad(true);
  w.set_requires_grad(true);
  const Tensor y = conv2d(x, w, Tensor(), opts({1, 1}, {1, 1}));
  REQUIRE(y.shape() == Shape({2, 5, 5, 4}));
  REQUIRE(test::values(y) == std::vector<double>(2 * 5 * 5 * 4, 0.0));
  sum(y).backward();
  REQUIRE(x.grad().shape() == x.shape());
  REQUIRE(w.grad().shape() == w.shape());
}

TEST_CASE("conv2d names the shapes it rejects", "[kernels]") {
  const Tensor x = ones({2, 8, 8, 3});
  const Tensor w = ones({4, 3, 3, 3});
  REQUIRE_THROWS_WITH(
      conv2d(ones({8, 8, 3}), w, Tensor()),
      Catch::Contains("conv2d: expected x of shape [n, h, w, c] (NHWC), got [8, 8, 3]"));
  REQUIRE_THROWS_WITH(conv2d(x, ones({4, 3, 3}), Tensor()),
                      Catch::Contains("expected weight of shape [k, r, s, c], got [4, 3, 3]"));
  REQUIRE_THROWS_WITH(conv2d(x, ones({4, 3, 3, 5}), Tensor()),
                      Catch::Contains("weight [4, 3, 3, 5]") && Catch::Contains("x [2, 8, 8, 3]") &&
                          Catch::Contains("input channels"));
  REQUIRE_THROWS_WITH(conv2d(x, ones({4, 3, 3, 3}, DType::f64), Tensor()),
                      Catch::Contains("conv2d") && Catch::Contains("f64"));
  REQUIRE_THROWS_WITH(conv2d(x, w, ones({3})),
                      Catch::Contains("expected bias of shape [4]") && Catch::Contains("got [3]"));
  REQUIRE_THROWS_WITH(conv2d(x, w, ones({4}, DType::bf16)), Catch::Contains("bf16"));
  REQUIRE_THROWS_WITH(
      conv2d(ones({2, 8, 8, 3}, DType::i32), ones({4, 3, 3, 3}, DType::i32), Tensor()),
      Catch::Contains("floating"));
  REQUIRE_THROWS_WITH(conv2d(ones({1, 2, 2, 3}), w, Tensor()),
                      Catch::Contains("too small") && Catch::Contains("output would be 0x0"));
  REQUIRE_THROWS_WITH(conv2d(x, w, Tensor(), opts({0, 1}, {0, 0})), Catch::Contains("stride >= 1"));
  REQUIRE_THROWS_WITH(conv2d(x, w, Tensor(), opts({1, 1}, {-1, 0})),
                      Catch::Contains("padding >= 0"));
  REQUIRE_THROWS_WITH(conv2d(x, w, Tensor(), opts({1, 1}, {0, 0}, {1, 0})),
                      Catch::Contains("dilation >= 1"));
}
