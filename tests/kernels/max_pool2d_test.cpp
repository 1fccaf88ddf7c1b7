// max_pool2d on the CPU: hand-computed windows, output sizes (floor mode), padding that never
// wins, overlapping 3x3 stride-2 windows whose shared maxima collect both gradients, the argmax
// (first maximum wins; NaN propagates), argument checks, a brute-force reference and gradcheck.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/backends.h"
#include "kernels/gradcheck.h"
#include "kernels/nn_ops.h"
#include "max_pool2d_cases.h"
#include "test_util.h"

using namespace simclr;

namespace {

// [n, h, w, c] from values listed in NHWC order.
Tensor nhwc(const std::vector<double>& v, int64_t n, int64_t h, int64_t w, int64_t c) {
  return from_vector(v, {n, h, w, c});
}

// Brute force over the padded input, padding as -inf.
std::vector<double> brute_force(const Tensor& x, std::array<int64_t, 2> k, std::array<int64_t, 2> s,
                                std::array<int64_t, 2> pad, int64_t& p_out, int64_t& q_out) {
  const std::vector<double> v = test::values(x);
  const int64_t n = x.shape()[0], h = x.shape()[1], w = x.shape()[2], c = x.shape()[3];
  const int64_t p = test::pool_out_size(h, k[0], s[0], pad[0]);
  const int64_t q = test::pool_out_size(w, k[1], s[1], pad[1]);
  std::vector<double> out;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < p; ++i)
      for (int64_t j = 0; j < q; ++j)
        for (int64_t ch = 0; ch < c; ++ch) {
          double best = -std::numeric_limits<double>::infinity();
          for (int64_t di = 0; di < k[0]; ++di)
            for (int64_t dj = 0; dj < k[1]; ++dj) {
              const int64_t hh = i * s[0] - pad[0] + di, ww = j * s[1] - pad[1] + dj;
              if (hh < 0 || hh >= h || ww < 0 || ww >= w) continue;
              best = std::max(best, v[static_cast<size_t>(((b * h + hh) * w + ww) * c + ch)]);
            }
          out.push_back(best);
        }
  p_out = p;
  q_out = q;
  return out;
}

}  // namespace

TEST_CASE("max_pool2d of a hand computed case", "[kernels][max_pool2d]") {
  // One image 4x4, one channel, values 0..15 row-major: 2x2 stride 2 -> 5, 7, 13, 15.
  std::vector<double> v(16);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
  const Tensor x = nhwc(v, 1, 4, 4, 1);
  const Tensor y = max_pool2d(x, {2, 2}, {2, 2});
  REQUIRE(y.shape() == Shape({1, 2, 2, 1}));
  REQUIRE(test::values(y) == std::vector<double>{5, 7, 13, 15});
  // 3x3 stride 1: 10, 11, 14, 15.
  REQUIRE(test::values(max_pool2d(x, {3, 3}, {1, 1})) == std::vector<double>{10, 11, 14, 15});
}

TEST_CASE("max_pool2d output sizes round down", "[kernels][max_pool2d]") {
  const Tensor x = test::random_tensor({2, 7, 6, 3}, DType::f32, 901);
  REQUIRE(max_pool2d(x, {3, 2}, {2, 2}, {1, 0}).shape() == Shape({2, 4, 3, 3}));
  REQUIRE(max_pool2d(x, {2, 2}, {2, 2}).shape() == Shape({2, 3, 3, 3}));
  REQUIRE(max_pool2d(x, {3, 3}, {2, 2}, {1, 1}).shape() == Shape({2, 4, 3, 3}));
  REQUIRE(max_pool2d(x, {7, 6}, {1, 1}).shape() == Shape({2, 1, 1, 3}));
}

TEST_CASE("max_pool2d padding never wins", "[kernels][max_pool2d]") {
  // All values negative: a zero-padded pool would return 0 at the borders.
  const Tensor x = test::random_tensor({1, 5, 5, 2}, DType::f64, 902, -3.0, -1.0);
  const std::vector<double> y = test::values(max_pool2d(x, {3, 3}, {2, 2}, {1, 1}));
  for (double v : y) REQUIRE(v < -1.0 + 1e-12);
  int64_t p = 0, q = 0;
  REQUIRE(y == brute_force(x, {3, 3}, {2, 2}, {1, 1}, p, q));
}

TEST_CASE("max_pool2d matches brute force", "[kernels][max_pool2d]") {
  const std::vector<test::PoolCase> cases{{{2, 7, 7, 3}, {3, 3}, {2, 2}, {1, 1}},
                                          {{1, 8, 8, 17}, {2, 2}, {2, 2}, {0, 0}},
                                          {{3, 5, 6, 4}, {3, 2}, {1, 2}, {1, 1}},
                                          {{2, 9, 4, 5}, {4, 3}, {3, 1}, {2, 0}},
                                          {{1, 1, 1, 6}, {1, 1}, {1, 1}, {0, 0}}};
  uint64_t seed = 910;
  for (const test::PoolCase& c : cases) {
    INFO(c.shape.str());
    for (const DType dtype : {DType::f32, DType::f64, DType::bf16}) {
      const Tensor x = to(test::random_tensor(c.shape, DType::f32, ++seed, -2.0, 2.0), dtype);
      const Tensor y = max_pool2d(x, c.kernel, c.stride, c.padding);
      int64_t p = 0, q = 0;
      const std::vector<double> want = brute_force(x, c.kernel, c.stride, c.padding, p, q);
      REQUIRE(y.shape() == Shape({c.shape[0], p, q, c.shape[3]}));
      REQUIRE(y.dtype() == dtype);
      REQUIRE(test::values(y) == want);
    }
  }
}

TEST_CASE("max_pool2d overlapping windows share a maximum's gradient", "[kernels][max_pool2d]") {
  // 5x5, 3x3 stride 2: the center (2, 2) lies in all four windows and is the largest value.
  std::vector<double> v(25, 0.0);
  for (size_t i = 0; i < v.size(); ++i) v[i] = -static_cast<double>(i) / 100.0;
  v[12] = 10.0;
  Tensor x = nhwc(v, 1, 5, 5, 1);
  x.set_requires_grad(true);
  const Tensor y = max_pool2d(x, {3, 3}, {2, 2});
  REQUIRE(test::values(y) == std::vector<double>{10, 10, 10, 10});
  const Tensor w = from_vector<double>({1, 2, 3, 4}, {1, 2, 2, 1});
  sum(y * w).backward();
  std::vector<double> want(25, 0.0);
  want[12] = 10.0;
  REQUIRE(test::values(x.grad()) == want);

  // Without the peak each window's maximum is its top-left element, which the windows before it
  // also cover without taking it: each gets its own window's gradient only.
  v[12] = -0.12;
  Tensor x2 = nhwc(v, 1, 5, 5, 1);
  x2.set_requires_grad(true);
  const Tensor y2 = max_pool2d(x2, {3, 3}, {2, 2});
  REQUIRE(test::values(y2) == std::vector<double>{0.0, -0.02, -0.10, -0.12});
  sum(y2 * w).backward();
  std::vector<double> want2(25, 0.0);
  want2[0] = 1;
  want2[2] = 2;
  want2[10] = 3;
  want2[12] = 4;
  REQUIRE(test::values(x2.grad()) == want2);
}

TEST_CASE("max_pool2d argmax takes the first maximum and NaN", "[kernels][max_pool2d]") {
  // One 2x3 window over a [1, 2, 3, 2] image: channel 0 has a tie (first wins), channel 1 a NaN.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor x = nhwc({1, 0, 5, 2, 5, nan, 0, 3, -1, 4, 5, 1}, 1, 2, 3, 2);
  PoolShape s;
  s.n = 1;
  s.h = 2;
  s.w = 3;
  s.c = 2;
  s.p = 1;
  s.q = 1;
  s.kernel_h = 2;
  s.kernel_w = 3;
  Tensor y = Tensor::empty({1, 1, 1, 2}, DType::f64);
  Tensor argmax = Tensor::empty({1, 1, 1, 2}, DType::i32);
  cpu::max_pool2d_forward(DType::f64, s, x.data_ptr(), y.data_ptr(), argmax.data<int32_t>(),
                          Stream{});
  const std::vector<double> got = test::values(y);
  REQUIRE(got[0] == 5);
  REQUIRE(std::isnan(got[1]));
  REQUIRE(to_vector<int32_t>(argmax) == std::vector<int32_t>{1, 2});
  // The op propagates NaN too.
  REQUIRE(std::isnan(test::values(max_pool2d(x, {2, 3}, {1, 1}))[1]));
}

TEST_CASE("max_pool2d checks its arguments", "[kernels][max_pool2d]") {
  const Tensor x = test::random_tensor({1, 4, 4, 2}, DType::f32, 920);
  REQUIRE_THROWS_WITH(max_pool2d(ones({4, 4, 2}), {2, 2}, {2, 2}), Catch::Contains("NHWC"));
  REQUIRE_THROWS_WITH(max_pool2d(ones({1, 4, 4, 2}, DType::i32), {2, 2}, {2, 2}),
                      Catch::Contains("floating"));
  REQUIRE_THROWS_WITH(max_pool2d(x, {2, 2}, {2, 2}, {2, 0}),
                      Catch::Contains("at most half of the kernel"));
  REQUIRE_THROWS_WITH(max_pool2d(x, {0, 2}, {2, 2}), Catch::Contains("kernel > 0"));
  REQUIRE_THROWS_WITH(max_pool2d(x, {2, 2}, {0, 2}), Catch::Contains("stride > 0"));
  REQUIRE_THROWS_WITH(max_pool2d(x, {5, 2}, {1, 1}), Catch::Contains("smaller than the kernel"));
}

TEST_CASE("gradcheck max_pool2d", "[kernels][max_pool2d][gradcheck]") {
  const std::vector<test::PoolCase> cases{{{2, 5, 5, 3}, {3, 3}, {2, 2}, {1, 1}},
                                          {{1, 4, 6, 2}, {2, 2}, {2, 2}, {0, 0}},
                                          {{1, 5, 4, 3}, {3, 2}, {1, 2}, {1, 1}}};
  uint64_t seed = 930;
  for (const test::PoolCase& c : cases) {
    INFO(c.shape.str());
    // Distinct random values: no two in a window within the step of the central differences.
    const Tensor x = test::random_tensor(c.shape, DType::f64, ++seed);
    const GradcheckResult r = gradcheck(
        [c](const std::vector<Tensor>& in) {
          return max_pool2d(in[0], c.kernel, c.stride, c.padding);
        },
        {x});
    INFO(r.message);
    REQUIRE(r.ok);
  }
}
