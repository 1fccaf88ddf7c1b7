// Values of the unary and binary ops on the CPU, in every floating dtype, against std:: math.
#include <catch2/catch.hpp>

#include <cmath>

#include "kernels/ops.h"
#include "test_util.h"

using namespace simclr;

TEST_CASE("unary ops compute their functions", "[kernels]") {
  const std::vector<double> x{0.25, 0.5, 1.0, 1.75, 3.0};
  const Tensor t = from_vector(x, Shape{5});
  struct Case {
    const char* name;
    Tensor (*op)(const Tensor&);
    double (*ref)(double);
  };
  const Case cases[] = {
      {"neg", neg, [](double v) { return -v; }},
      {"exp", exp, [](double v) { return std::exp(v); }},
      {"log", log, [](double v) { return std::log(v); }},
      {"sqrt", sqrt, [](double v) { return std::sqrt(v); }},
      {"rsqrt", rsqrt, [](double v) { return 1 / std::sqrt(v); }},
      {"abs", abs, [](double v) { return std::abs(v); }},
      {"relu", relu, [](double v) { return std::max(v, 0.0); }},
      {"sigmoid", sigmoid, [](double v) { return 1 / (1 + std::exp(-v)); }},
      {"tanh", tanh, [](double v) { return std::tanh(v); }},
      {"square", square, [](double v) { return v * v; }},
  };
  for (const Case& c : cases) {
    for (DType dtype : {DType::f64, DType::f32, DType::bf16, DType::f16}) {
      INFO(c.name << " " << dtype_name(dtype));
      const Tensor y = c.op(to(t, dtype));
      std::vector<double> expected;
      for (double v : test::values(to(t, dtype))) expected.push_back(c.ref(v));
      SIMCLR_REQUIRE_CLOSE(y, from_vector(expected, Shape{5}), test::tolerance_for(dtype));
    }
  }
  SIMCLR_REQUIRE_CLOSE(pow(t, 1.5),
                       from_vector(std::vector<double>{0.125, std::pow(0.5, 1.5), 1,
                                                       std::pow(1.75, 1.5), std::pow(3.0, 1.5)},
                                   Shape{5}),
                       test::tolerance_for(DType::f64));
  SIMCLR_REQUIRE_CLOSE(add(t, 1.0) * 2.0 - 1.0,
                       from_vector(std::vector<double>{1.5, 2, 3, 4.5, 7}, Shape{5}),
                       test::tolerance_for(DType::f64));
}

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

TEST_CASE("arithmetic needs floating tensors", "[kernels]") {
  REQUIRE_THROWS_WITH(exp(zeros({2}, DType::i64)),
                      Catch::Contains("exp: expected a floating tensor"));
}

TEST_CASE("bf16 arithmetic computes in fp32 and rounds once", "[kernels]") {
  // 1 + 2^-9 is not a bf16: the sum rounds back to 1, as PyTorch's bf16 add does.
  const Tensor one = ones({1}, DType::bf16);
  REQUIRE(test::values(add(one, 0x1p-9))[0] == 1.0);
  REQUIRE(test::values(add(one, 0x1p-7))[0] == 1.0 + 0x1p-7);
}
