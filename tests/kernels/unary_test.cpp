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

TEST_CASE("arithmetic needs floating tensors", "[kernels]") {
  REQUIRE_THROWS_WITH(exp(zeros({2}, DType::i64)),
                      Catch::Contains("exp: expected a floating tensor"));
}
