#include <catch2/catch.hpp>

#include <cmath>

#include "kernels/ops.h"
#include "test_util.h"

using namespace simclr;

TEST_CASE("softmax rows sum to one along any dim", "[kernels]") {
  const Tensor x = test::random_tensor({3, 4, 5}, DType::f64, 41, -3, 3);
  for (int64_t dim : {0, 1, 2}) {
    const Tensor s = softmax(x, dim);
    SIMCLR_REQUIRE_CLOSE(sum(s, {dim}), ones(sum(x, {dim}).shape(), DType::f64),
                         (test::Tolerance{1e-12, 1e-12}));
    SIMCLR_REQUIRE_CLOSE(log_softmax(x, dim), log(s), (test::Tolerance{1e-12, 1e-12}));
  }
}

TEST_CASE("softmax matches its definition and survives large inputs", "[kernels]") {
  const Tensor x = from_vector(std::vector<double>{1, 2, 3, 1000, 1001, 1002}, Shape{2, 3});
  const double z = std::exp(-2.0) + std::exp(-1.0) + 1;
  const std::vector<double> row{std::exp(-2.0) / z, std::exp(-1.0) / z, 1 / z};
  std::vector<double> expected = row;
  expected.insert(expected.end(), row.begin(), row.end());
  SIMCLR_REQUIRE_CLOSE(softmax(x, -1), from_vector(expected, Shape{2, 3}),
                       (test::Tolerance{1e-12, 1e-15}));
  const std::vector<double> ls = test::values(log_softmax(to(x, DType::f32), 1));
  REQUIRE(ls[5] == Approx(-std::log(z)).epsilon(1e-6));
}

TEST_CASE("softmax in low precision accumulates in fp32", "[kernels]") {
  const Tensor x = test::random_tensor({2, 1000}, DType::f32, 42, -2, 2);
  SIMCLR_REQUIRE_CLOSE(softmax(to(x, DType::bf16), 1), softmax(x, 1),
                       (test::Tolerance{1e-2, 1e-5}));
}
