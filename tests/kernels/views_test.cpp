#include <catch2/catch.hpp>

#include "kernels/ops.h"
#include "test_util.h"

using namespace simclr;

namespace {
Tensor iota(const Shape& shape) {
  return reshape(arange(shape.numel(), DType::f64), shape);
}
}  // namespace

TEST_CASE("reshape views contiguous tensors and copies others", "[kernels]") {
  const Tensor x = iota({2, 3, 4});
  const Tensor r = reshape(x, Shape{4, -1});
  REQUIRE(r.shape() == Shape({4, 6}));
  REQUIRE(r.storage() == x.storage());
  const Tensor t = transpose(x, 0, 2);
  const Tensor flat = reshape(t, Shape{-1});
  REQUIRE(flat.storage() != x.storage());
  REQUIRE(test::values(flat)[1] == 12);  // t[0][0][1] = x[1][0][0]
  REQUIRE_THROWS_WITH(reshape(x, Shape{5, -1}), Catch::Contains("cannot hold the 24 elements"));
  REQUIRE_THROWS_WITH(reshape(x, Shape{-1, -1}), Catch::Contains("more than one -1"));
  REQUIRE(flatten(x, 1).shape() == Shape({2, 12}));
}

TEST_CASE("permute and transpose swap strides", "[kernels]") {
  const Tensor x = iota({2, 3, 4});
  const Tensor p = permute(x, {2, 0, 1});
  REQUIRE(p.shape() == Shape({4, 2, 3}));
  REQUIRE(p.strides() == Strides{1, 12, 4});
  REQUIRE_FALSE(p.is_contiguous());
  REQUIRE(test::values(contiguous(p))[1] == 4);  // p[0][0][1] = x[0][1][0]
  REQUIRE_THROWS_WITH(permute(x, {0, 0, 1}), Catch::Contains("repeated"));
  REQUIRE(transpose(x, -1, 0).shape() == Shape({4, 3, 2}));
}

TEST_CASE("slice follows Python's rules", "[kernels]") {
  const Tensor x = iota({10});
  REQUIRE(test::values(slice(x, 0, 2, 8, 3)) == std::vector<double>{2, 5});
  REQUIRE(test::values(slice(x, 0, -3, 100)) == std::vector<double>{7, 8, 9});
  REQUIRE(slice(x, 0, 5, 2).numel() == 0);
  REQUIRE_THROWS_WITH(slice(x, 0, 0, 5, 0), Catch::Contains("step > 0"));
}

TEST_CASE("expand broadcasts with zero strides, squeeze and unsqueeze", "[kernels]") {
  const Tensor x = iota({3, 1});
  const Tensor e = expand(x, Shape{2, 3, 4});
  REQUIRE(e.strides() == Strides{0, 1, 0});
  REQUIRE(test::values(e)[5] == 1);
  REQUIRE(expand(x, Shape{3, -1}).shape() == Shape({3, 1}));
  REQUIRE_THROWS_WITH(expand(x, Shape{4, 4}), Catch::Contains("do not broadcast"));
  REQUIRE(unsqueeze(x, 0).shape() == Shape({1, 3, 1}));
  REQUIRE(unsqueeze(x, -1).shape() == Shape({3, 1, 1}));
  REQUIRE(squeeze(x, 1).shape() == Shape({3}));
  REQUIRE_THROWS_WITH(squeeze(x, 0), Catch::Contains("has size 3, expected 1"));
}
