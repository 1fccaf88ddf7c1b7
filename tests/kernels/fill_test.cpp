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
