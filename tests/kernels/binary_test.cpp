#include <catch2/catch.hpp>

#include <cmath>

#include "kernels/ops.h"
#include "test_util.h"

using namespace simclr;

TEST_CASE("binary ops broadcast like NumPy", "[kernels]") {
  const Tensor a = from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, Shape{2, 3});
  const Tensor b = from_vector(std::vector<float>{10, 20, 30}, Shape{3});
  const Tensor c = from_vector(std::vector<float>{100, 200}, Shape{2, 1});
  REQUIRE(to_vector<float>(add(a, b)) == std::vector<float>{11, 22, 33, 14, 25, 36});
  REQUIRE(to_vector<float>(sub(a, c)) == std::vector<float>{-99, -98, -97, -196, -195, -194});
  REQUIRE(to_vector<float>(mul(b, c)) == std::vector<float>{1000, 2000, 3000, 2000, 4000, 6000});
  REQUIRE(to_vector<float>(div(a, b)) ==
          std::vector<float>{1.0f / 10, 2.0f / 20, 3.0f / 30, 4.0f / 10, 5.0f / 20, 6.0f / 30});
  REQUIRE(to_vector<float>(maximum(a, full({1}, 3.5))) ==
          std::vector<float>{3.5, 3.5, 3.5, 4, 5, 6});
  REQUIRE(to_vector<float>(minimum(a, full({1}, 3.5))) ==
          std::vector<float>{1, 2, 3, 3.5, 3.5, 3.5});
  REQUIRE(to_vector<float>(eq(a, full({1}, 2))) == std::vector<float>{0, 1, 0, 0, 0, 0});
  REQUIRE(to_vector<float>(gt(a, full({1}, 4))) == std::vector<float>{0, 0, 0, 0, 1, 1});
  // A transposed operand is read through its strides.
  REQUIRE(to_vector<float>(add(transpose(a, 0, 1), full({1}, 0))) ==
          std::vector<float>{1, 4, 2, 5, 3, 6});
  REQUIRE(add(a, b).shape() == Shape({2, 3}));
}

TEST_CASE("binary ops name both shapes when they do not broadcast", "[kernels]") {
  const Tensor a = ones({2, 3}), b = ones({4, 3});
  REQUIRE_THROWS_WITH(add(a, b), Catch::Contains("add: shapes [2, 3] and [4, 3] do not broadcast"));
  REQUIRE_THROWS_WITH(mul(ones({5}), ones({2, 3})),
                      Catch::Contains("[5]") && Catch::Contains("[2, 3]"));
}

TEST_CASE("bf16 arithmetic computes in fp32 and rounds once", "[kernels]") {
  // 1 + 2^-9 is not a bf16: the sum rounds back to 1, as PyTorch's bf16 add does.
  const Tensor one = ones({1}, DType::bf16);
  REQUIRE(test::values(add(one, 0x1p-9))[0] == 1.0);
  REQUIRE(test::values(add(one, 0x1p-7))[0] == 1.0 + 0x1p-7);
}
