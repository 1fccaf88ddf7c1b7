#include <catch2/catch.hpp>

#include <cmath>

#include "kernels/ops.h"
#include "test_util.h"

using namespace simclr;

TEST_CASE("copy_ scatters into strided views and broadcasts its source", "[kernels]") {
  Tensor t = zeros({2, 3});
  Tensor tt = transpose(t, 0, 1);  // [3, 2]
  copy_(tt, from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, Shape{3, 2}));
  REQUIRE(to_vector<float>(t) == std::vector<float>{1, 3, 5, 2, 4, 6});
  copy_(t, from_vector(std::vector<float>{7, 8, 9}, Shape{3}));
  REQUIRE(to_vector<float>(t) == std::vector<float>{7, 8, 9, 7, 8, 9});
  REQUIRE_THROWS_WITH(copy_(t, ones({2})), Catch::Contains("copy_: shapes [2, 3] and [2]"));
  Tensor leaf = ones({2});
  leaf.set_requires_grad(true);
  REQUIRE_THROWS_WITH(copy_(leaf, ones({2})), Catch::Contains("requires grad"));
}

TEST_CASE("casts round to nearest even and saturate to integers", "[kernels]") {
  const Tensor x = from_vector(std::vector<double>{1.0 + 0x1p-8, -2.75, 300.5, 1e6}, Shape{4});
  REQUIRE(test::values(to(x, DType::bf16)) == std::vector<double>{1.0, -2.75, 300.0, 999424.0});
  REQUIRE(test::values(to(x, DType::i32)) == std::vector<double>{1, -2, 300, 1e6});
  REQUIRE(test::values(to(to(x, DType::f16), DType::f64))[3] == INFINITY);
  const Tensor wild = from_vector(std::vector<double>{-3.5, 300, NAN, 1e30}, Shape{4});
  REQUIRE(test::values(to(wild, DType::u8)) == std::vector<double>{0, 255, 0, 255});
  REQUIRE(test::values(to(wild, DType::i32)) == std::vector<double>{-3, 300, 0, 2147483647});
  const Tensor bytes = from_vector(std::vector<uint8_t>{0, 127, 255}, Shape{3});
  REQUIRE(test::values(to(bytes, DType::f32)) == std::vector<double>{0, 127, 255});
  REQUIRE(to(x, DType::f64).impl() == x.impl());  // same dtype: no copy
}

TEST_CASE("host data goes in and out row-major", "[kernels]") {
  const std::vector<int64_t> v{1, 2, 3, 4, 5, 6};
  const Tensor t = from_vector(v, Shape{2, 3});
  REQUIRE(to_vector<int64_t>(transpose(t, 0, 1)) == std::vector<int64_t>{1, 4, 2, 5, 3, 6});
  REQUIRE_THROWS_WITH(from_vector(v, Shape{4}), Catch::Contains("6 values do not fill shape [4]"));
  REQUIRE_THROWS_WITH(to_vector<float>(t), Catch::Contains("the tensor holds i64"));
  REQUIRE_THROWS_WITH(item(t), Catch::Contains("expected a tensor of one element"));
}

TEST_CASE("casts pass gradients back in the source dtype", "[kernels]") {
  Tensor x = from_vector(std::vector<double>{1, 2, 3}, Shape{3});
  x.set_requires_grad(true);
  sum(mul(to(x, DType::bf16), 2.0)).backward();
  REQUIRE(x.grad().dtype() == DType::f64);
  REQUIRE(test::values(x.grad()) == std::vector<double>{2, 2, 2});
  REQUIRE_FALSE(to(x, DType::i32).requires_grad());
}
