#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "core/dtype.h"
#include "core/error.h"

using namespace simclr;

TEST_CASE("dtype sizes names and parsing", "[core]") {
  REQUIRE(dtype_size(DType::f32) == 4);
  REQUIRE(dtype_size(DType::bf16) == 2);
  REQUIRE(dtype_size(DType::i64) == 8);
  REQUIRE(std::string(dtype_name(DType::f16)) == "f16");
  REQUIRE(dtype_from_name("bf16") == DType::bf16);
  REQUIRE_THROWS_WITH(dtype_from_name("float"), Catch::Contains("unknown dtype 'float'") &&
                                                    Catch::Contains("f32, f64, bf16"));
  REQUIRE(is_floating(DType::f16));
  REQUIRE_FALSE(is_floating(DType::i32));
}

TEST_CASE("bf16 rounds to nearest even", "[core]") {
  REQUIRE(bf16(1.0f).bits == 0x3F80);
  REQUIRE(bf16(-2.0f).bits == 0xC000);
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1.0).
  REQUIRE(bf16(1.0f + 0x1p-8f).bits == 0x3F80);
  // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: ties go up to even.
  REQUIRE(bf16(1.0f + 3 * 0x1p-8f).bits == 0x3F82);
  REQUIRE(bf16(1.0f + 0x1p-8f + 0x1p-12f).bits == 0x3F81);
  REQUIRE(std::isnan(static_cast<float>(bf16(NAN))));
  REQUIRE(std::isinf(static_cast<float>(bf16(INFINITY))));
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    bf16 h;
    h.bits = static_cast<uint16_t>(bits);
    const float f = h;
    if (std::isnan(f)) continue;
    REQUIRE(bf16(f).bits == h.bits);
  }
}

TEST_CASE("f16 conversions match IEEE half", "[core]") {
  REQUIRE(f16(1.0f).bits == 0x3C00);
  REQUIRE(f16(-0.5f).bits == 0xB800);
  REQUIRE(f16(65504.0f).bits == 0x7BFF);
  REQUIRE(f16(65519.0f).bits == 0x7BFF);
  REQUIRE(f16(65520.0f).bits == 0x7C00);  // rounds to infinity
  REQUIRE(f16(0x1p-24f).bits == 0x0001);  // the smallest subnormal
  REQUIRE(f16(0x1p-25f).bits == 0x0000);  // halfway to it: ties to even (zero)
  REQUIRE(f16(0x1.8p-25f).bits == 0x0001);
  REQUIRE(f16(0x1p-14f).bits == 0x0400);         // the smallest normal
  REQUIRE(f16(1.0f + 0x1p-11f).bits == 0x3C00);  // tie to even
  REQUIRE(f16(1.0f + 3 * 0x1p-11f).bits == 0x3C02);
  REQUIRE(std::isnan(static_cast<float>(f16(NAN))));
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    f16 h;
    h.bits = static_cast<uint16_t>(bits);
    const float f = h;
    if (std::isnan(f)) continue;
    REQUIRE(f16(f).bits == h.bits);
  }
}

TEST_CASE("dispatch rejects unsupported dtypes with the op name", "[core]") {
  REQUIRE_THROWS_WITH(dispatch_floating(DType::i32, "softmax", [](auto) {}),
                      Catch::Contains("softmax") && Catch::Contains("got i32"));
}
