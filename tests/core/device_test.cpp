#include <catch2/catch.hpp>

#include "core/cuda_device.h"
#include "core/device.h"
#include "core/error.h"
#include "core/shape.h"

using namespace simclr;

TEST_CASE("devices parse and print", "[core]") {
  REQUIRE(Device::parse("cpu") == Device::cpu());
  REQUIRE(Device::parse("cuda") == Device::cuda(0));
  REQUIRE(Device::parse("cuda:3") == Device::cuda(3));
  REQUIRE(Device::cuda(2).str() == "cuda:2");
  for (const char* bad : {"gpu", "cuda:", "cuda:x", "cuda:-1", ""})
    REQUIRE_THROWS_WITH(Device::parse(bad),
                        Catch::Contains("invalid device") && Catch::Contains("\"cuda:N\""));
}

TEST_CASE("no GPU is an answer, not a crash", "[core]") {
  // On a machine without a driver or a GPU the count is 0 and a reason is given.
  if (cuda_device_count() == 0) {
    REQUIRE_FALSE(cuda_available());
    REQUIRE_FALSE(cuda_unavailable_reason().empty());
  } else {
    REQUIRE(cuda_unavailable_reason().empty());
  }
}

TEST_CASE("shapes broadcast as NumPy and name both shapes when they do not", "[core]") {
  REQUIRE(broadcast_shapes(Shape{5, 1, 7}, Shape{6, 1}, "add") == Shape({5, 6, 7}));
  REQUIRE(broadcast_shapes(Shape{}, Shape{3}, "add") == Shape({3}));
  REQUIRE(broadcast_shapes(Shape{0, 1}, Shape{1, 4}, "add") == Shape({0, 4}));
  REQUIRE_THROWS_WITH(broadcast_shapes(Shape{2, 3}, Shape{4, 3}, "add"),
                      Catch::Contains("add") && Catch::Contains("[2, 3]") &&
                          Catch::Contains("[4, 3]") && Catch::Contains("do not broadcast"));
  REQUIRE(Shape({2, 3, 4}).numel() == 24);
  REQUIRE(contiguous_strides(Shape{2, 3, 4}) == Strides{12, 4, 1});
  REQUIRE(Shape({2, 3}).axis(-1, "sum") == 1);
  REQUIRE_THROWS_WITH(Shape({2, 3}).axis(2, "sum"), Catch::Contains("sum: dim 2 is out of range"));
}

TEST_CASE("errors carry file and line", "[core]") {
  try {
    SIMCLR_CHECK(1 + 1 == 3, "arithmetic: expected ", 3, ", got ", 2);
    FAIL("no throw");
  } catch (const Error& e) {
    REQUIRE(e.message() == "arithmetic: expected 3, got 2");
    REQUIRE(std::string(e.what()).find("device_test.cpp:") != std::string::npos);
    REQUIRE(e.line() > 0);
  }
}
