// fill, copy, casts and random fills on the CPU.
#include <catch2/catch.hpp>

#include <cmath>

#include "kernels/ops.h"
#include "test_util.h"

using namespace simclr;

TEST_CASE("fill and the factories cover every dtype", "[kernels]") {
  for (DType d :
       {DType::f32, DType::f64, DType::bf16, DType::f16, DType::u8, DType::i32, DType::i64}) {
    INFO(dtype_name(d));
    const Tensor t = full({3, 5}, 7, d);
    REQUIRE(test::values(t) == std::vector<double>(15, 7.0));
    REQUIRE(test::values(zeros({2}, d)) == std::vector<double>{0, 0});
    REQUIRE(test::values(ones_like(t)) == std::vector<double>(15, 1.0));
  }
  REQUIRE(test::values(arange(4)) == std::vector<double>{0, 1, 2, 3});
}

TEST_CASE("fill_ writes only the view's elements", "[kernels]") {
  Tensor t = zeros({3, 4});
  Tensor col = slice(t, 1, 1, 2);
  fill_(col, 5);
  REQUIRE(to_vector<float>(t) == std::vector<float>{0, 5, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0});
}

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

TEST_CASE("casts round to nearest even and truncate to integers as C++", "[kernels]") {
  const Tensor x = from_vector(std::vector<double>{1.0 + 0x1p-8, -2.75, 300.5, 1e6}, Shape{4});
  REQUIRE(test::values(to(x, DType::bf16)) == std::vector<double>{1.0, -2.75, 300.0, 999424.0});
  REQUIRE(test::values(to(x, DType::i32)) == std::vector<double>{1, -2, 300, 1e6});
  REQUIRE(test::values(to(to(x, DType::f16), DType::f64))[3] == INFINITY);
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

TEST_CASE("random fills are reproducible and have the right moments", "[kernels]") {
  Generator g1(7), g2(7);
  const Tensor a = rand({10001}, DType::f32, Device::cpu(), &g1);
  const Tensor b = rand({10001}, DType::f32, Device::cpu(), &g2);
  REQUIRE(to_vector<float>(a) == to_vector<float>(b));
  const Tensor c = rand({10001}, DType::f32, Device::cpu(), &g1);  // the generator moved on
  REQUIRE(to_vector<float>(a) != to_vector<float>(c));
  for (DType d : {DType::f32, DType::f64, DType::bf16}) {
    INFO(dtype_name(d));
    Generator g(11);
    const Tensor u = rand({20001}, d, Device::cpu(), &g);
    const Tensor n = randn({20001}, d, Device::cpu(), &g);
    REQUIRE(item(min(u)) >= 0.0);
    REQUIRE(item(max(u)) <= 1.0);
    REQUIRE(item(mean(to(u, DType::f64))) == Approx(0.5).margin(0.01));
    const Tensor nd = to(n, DType::f64);
    REQUIRE(item(mean(nd)) == Approx(0.0).margin(0.02));
    REQUIRE(item(mean(square(nd))) == Approx(1.0).margin(0.03));
  }
  Tensor t = Tensor::empty({1000});
  Generator g(3);
  uniform_(t, -2, -1, &g);
  REQUIRE(item(max(t)) <= -1.0);
  REQUIRE(item(min(t)) >= -2.0);
  REQUIRE_THROWS_WITH(uniform_(t, 1, 0, &g), Catch::Contains("low <= high"));
}

TEST_CASE("casts pass gradients back in the source dtype", "[kernels]") {
  Tensor x = from_vector(std::vector<double>{1, 2, 3}, Shape{3});
  x.set_requires_grad(true);
  sum(mul(to(x, DType::bf16), 2.0)).backward();
  REQUIRE(x.grad().dtype() == DType::f64);
  REQUIRE(test::values(x.grad()) == std::vector<double>{2, 2, 2});
  REQUIRE_FALSE(to(x, DType::i32).requires_grad());
}
