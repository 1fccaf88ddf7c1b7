#include <catch2/catch.hpp>

#include <cmath>

#include "kernels/ops.h"
#include "test_util.h"

using namespace simclr;

TEST_CASE("reductions over all, one and several dims", "[kernels]") {
  // x[i][j][k] = 100 i + 10 j + k, shape [2, 3, 4]
  std::vector<double> v;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) v.push_back(100 * i + 10 * j + k);
  const Tensor x = from_vector(v, Shape{2, 3, 4});
  REQUIRE(item(sum(x)) == 2 * 3 * 4 * 0 + 1200 + 2 * 4 * 30 + 6 * 6);
  REQUIRE(sum(x).shape() == Shape());
  REQUIRE(test::values(sum(x, {0, 2})) ==
          std::vector<double>{4 * 100 + 2 * 6, 4 * 100 + 80 + 12, 4 * 100 + 160 + 12});
  REQUIRE(sum(x, {1}, true).shape() == Shape({2, 1, 4}));
  REQUIRE(test::values(mean(x, {-1})) == std::vector<double>{1.5, 11.5, 21.5, 101.5, 111.5, 121.5});
  REQUIRE(test::values(max(x, {1})) == std::vector<double>{20, 21, 22, 23, 120, 121, 122, 123});
  REQUIRE(test::values(min(x, {0, 1})) == std::vector<double>{0, 1, 2, 3});
  const Tensor r = from_vector(std::vector<double>{3, 4, 0, 0, 5, 12}, Shape{3, 2});
  REQUIRE(test::values(norm(r, {1})) == std::vector<double>{5, 0, 13});
  REQUIRE(item(norm(r)) == Approx(std::sqrt(9 + 16 + 25 + 144.0)));
  // A non-contiguous input is read through its strides.
  REQUIRE(test::values(sum(transpose(r, 0, 1), {1})) == std::vector<double>{8, 16});
}

TEST_CASE("reductions accumulate low precision in fp32", "[kernels]") {
  // 4096 ones in bf16: a bf16 accumulator would stop at 256.
  REQUIRE(item(sum(ones({4096}, DType::bf16))) == 4096);
  REQUIRE(item(mean(full({1000}, 0.1, DType::f16))) == Approx(0.1).epsilon(1e-3));
}

TEST_CASE("reduction errors name the op and the dim", "[kernels]") {
  const Tensor x = ones({2, 3});
  REQUIRE_THROWS_WITH(sum(x, {2}),
                      Catch::Contains("sum: dim 2 is out of range for a tensor of shape [2, 3]"));
  REQUIRE_THROWS_WITH(sum(x, {1, -1}), Catch::Contains("given twice"));
  REQUIRE_THROWS_WITH(max(ones({0, 3}), {0}), Catch::Contains("cannot reduce zero elements"));
  REQUIRE(item(sum(ones({0}))) == 0);
}

TEST_CASE("max shares its gradient among ties as torch.amax", "[kernels]") {
  Tensor x = from_vector(std::vector<double>{1, 3, 3, 2}, Shape{4});
  x.set_requires_grad(true);
  max(x).backward();
  REQUIRE(test::values(x.grad()) == std::vector<double>{0, 0.5, 0.5, 0});
}

TEST_CASE("norm has a zero gradient at zero", "[kernels]") {
  Tensor x = zeros({3}, DType::f64);
  x.set_requires_grad(true);
  norm(x).backward();
  REQUIRE(test::values(x.grad()) == std::vector<double>{0, 0, 0});
}

TEST_CASE("sum_to undoes broadcasting", "[kernels]") {
  const Tensor g = ones({2, 3, 4});
  REQUIRE(test::values(sum_to(g, Shape{3, 1})) == std::vector<double>{8, 8, 8});
  REQUIRE(sum_to(g, Shape{1, 4}).shape() == Shape({1, 4}));
  REQUIRE_THROWS_WITH(sum_to(g, Shape{5}), Catch::Contains("sum_to"));
}
