#include <catch2/catch.hpp>

#include "kernels/nn_ops.h"
#include "test_util.h"

using namespace simclr;

namespace {
// The product by three nested loops, in fp64.
Tensor naive(const Tensor& a, const Tensor& b) {
  const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  const std::vector<double> x = test::values(a), y = test::values(b);
  std::vector<double> c(static_cast<size_t>(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p)
        c[static_cast<size_t>(i * n + j)] +=
            x[static_cast<size_t>(i * k + p)] * y[static_cast<size_t>(p * n + j)];
  return from_vector(c, Shape{m, n});
}
}  // namespace

TEST_CASE("matmul matches the naive product at odd sizes", "[kernels]") {
  for (auto [m, k, n] : {std::tuple{1, 1, 1}, {3, 5, 7}, {33, 17, 65}, {2, 100, 3}}) {
    INFO(m << "x" << k << "x" << n);
    const Tensor a = test::random_tensor({m, k}, DType::f64, 51);
    const Tensor b = test::random_tensor({k, n}, DType::f64, 52);
    SIMCLR_REQUIRE_CLOSE(matmul(a, b), naive(a, b), test::tolerance_for(DType::f64));
    SIMCLR_REQUIRE_CLOSE(matmul(to(a, DType::f32), to(b, DType::f32)), naive(a, b),
                         (test::Tolerance{1e-5, 1e-5}));
    // bf16 inputs, fp32 accumulation, one rounding of the result.
    const Tensor ab = to(a, DType::bf16), bb = to(b, DType::bf16);
    SIMCLR_REQUIRE_CLOSE(matmul(ab, bb), to(naive(ab, bb), DType::bf16),
                         (test::Tolerance{8e-3, 1e-6}));
    SIMCLR_REQUIRE_CLOSE(matmul(to(a, DType::f16), to(b, DType::f16)),
                         naive(to(a, DType::f16), to(b, DType::f16)),
                         (test::Tolerance{2e-3, 2e-3}));
  }
}

TEST_CASE("matmul reads transposed views without copying them", "[kernels]") {
  const Tensor a = test::random_tensor({5, 3}, DType::f64, 53);
  const Tensor b = test::random_tensor({4, 5}, DType::f64, 54);
  const Tensor at = transpose(a, 0, 1), bt = transpose(b, 0, 1);  // [3, 5] and [5, 4]
  SIMCLR_REQUIRE_CLOSE(matmul(at, bt), naive(contiguous(at), contiguous(bt)),
                       test::tolerance_for(DType::f64));
  // A strided (sliced) operand with neither unit row nor unit column stride is copied first.
  const Tensor big = test::random_tensor({6, 10}, DType::f64, 55);
  const Tensor every_other = slice(slice(big, 1, 0, 10, 2), 0, 0, 6, 2);  // [3, 5]
  SIMCLR_REQUIRE_CLOSE(matmul(every_other, bt), naive(contiguous(every_other), contiguous(bt)),
                       test::tolerance_for(DType::f64));
}

TEST_CASE("batched matmul and a 2-D operand broadcast over the batch", "[kernels]") {
  const Tensor a = test::random_tensor({3, 4, 5}, DType::f64, 56);
  const Tensor b = test::random_tensor({3, 5, 2}, DType::f64, 57);
  const Tensor w = test::random_tensor({5, 2}, DType::f64, 58);
  const Tensor c = matmul(a, b), d = matmul(a, w);
  REQUIRE(c.shape() == Shape({3, 4, 2}));
  for (int64_t i = 0; i < 3; ++i) {
    const Tensor ai = squeeze(slice(a, 0, i, i + 1), 0);
    SIMCLR_REQUIRE_CLOSE(squeeze(slice(c, 0, i, i + 1), 0),
                         naive(ai, squeeze(slice(b, 0, i, i + 1), 0)),
                         test::tolerance_for(DType::f64));
    SIMCLR_REQUIRE_CLOSE(squeeze(slice(d, 0, i, i + 1), 0), naive(ai, w),
                         test::tolerance_for(DType::f64));
  }
}

TEST_CASE("matmul names both shapes on a mismatch", "[kernels]") {
  REQUIRE_THROWS_WITH(matmul(ones({2, 3}), ones({4, 5})),
                      Catch::Contains("matmul: shapes [2, 3] and [4, 5] cannot be multiplied"));
  REQUIRE_THROWS_WITH(matmul(ones({2, 3, 4}), ones({3, 4, 5})), Catch::Contains("batch sizes"));
  REQUIRE_THROWS_WITH(matmul(ones({3}), ones({3, 1})), Catch::Contains("2-D or 3-D"));
  REQUIRE(to_vector<float>(matmul(ones({2, 0}), ones({0, 3}))) == std::vector<float>(6, 0.0f));
}

TEST_CASE("linear is x W^T plus a bias in every dtype", "[kernels]") {
  const Tensor x = test::random_tensor({2, 3, 5}, DType::f64, 61);
  const Tensor w = test::random_tensor({4, 5}, DType::f64, 62);
  const Tensor b = test::random_tensor({4}, DType::f64, 63);
  const Tensor expected = add(matmul(x, transpose(w, 0, 1)), b);
  SIMCLR_REQUIRE_CLOSE(linear(x, w, b), expected, test::tolerance_for(DType::f64));
  SIMCLR_REQUIRE_CLOSE(linear(x, w, Tensor()), matmul(x, transpose(w, 0, 1)),
                       test::tolerance_for(DType::f64));
  for (DType d : {DType::f32, DType::bf16, DType::f16}) {
    INFO(dtype_name(d));
    SIMCLR_REQUIRE_CLOSE(linear(to(x, d), to(w, d), to(b, d)), to(to(expected, d), DType::f64),
                         (test::Tolerance{2e-2, 2e-2}));
  }
  REQUIRE_THROWS_WITH(linear(x, transpose(w, 0, 1), b),
                      Catch::Contains("linear: input [2, 3, 5] does not fit weight [5, 4]"));
  REQUIRE_THROWS_WITH(linear(x, w, ones({5}, DType::f64)), Catch::Contains("expected bias [4]"));
}
