#include <catch2/catch.hpp>

#include <cmath>

#include "kernels/ops.h"
#include "test_util.h"

using namespace simclr;

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
