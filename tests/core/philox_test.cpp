#include <catch2/catch.hpp>

#include "core/philox.h"

using namespace simclr;

// Known-answer vectors of Philox4x32-10 from the Random123 distribution (kat_vectors).
TEST_CASE("philox4x32-10 matches the Random123 known answers", "[core]") {
  const Philox4 zero = philox4x32_10(Philox4{{0, 0, 0, 0}}, 0, 0);
  REQUIRE(zero.v[0] == 0x6627e8d5u);
  REQUIRE(zero.v[1] == 0xe169c58du);
  REQUIRE(zero.v[2] == 0xbc57ac4cu);
  REQUIRE(zero.v[3] == 0x9b00dbd8u);
  const Philox4 ones = philox4x32_10(Philox4{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}},
                                     0xffffffffu, 0xffffffffu);
  REQUIRE(ones.v[0] == 0x408f276du);
  REQUIRE(ones.v[1] == 0x41c83b0eu);
  REQUIRE(ones.v[2] == 0xa20bc7c6u);
  REQUIRE(ones.v[3] == 0x6d5451fdu);
  const Philox4 pi = philox4x32_10(Philox4{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}},
                                   0xa4093822u, 0x299f31d0u);
  REQUIRE(pi.v[0] == 0xd16cfe09u);
  REQUIRE(pi.v[1] == 0x94fdccebu);
  REQUIRE(pi.v[2] == 0x5001e420u);
  REQUIRE(pi.v[3] == 0x24126ea1u);
}

TEST_CASE("philox blocks are keyed by seed and counted by index", "[core]") {
  const Philox4 a = philox_block(7, 0, 5), b = philox_block(7, 0, 5), c = philox_block(8, 0, 5);
  const Philox4 d = philox_block(7, 0, 6), e = philox_block(7, 1, 5);
  REQUIRE(std::equal(a.v, a.v + 4, b.v));
  REQUIRE_FALSE(std::equal(a.v, a.v + 4, c.v));
  REQUIRE_FALSE(std::equal(a.v, a.v + 4, d.v));
  REQUIRE_FALSE(std::equal(a.v, a.v + 4, e.v));
}

TEST_CASE("random words map exactly onto uniform floats", "[core]") {
  REQUIRE(uniform_float(0) == 0.0f);
  REQUIRE(uniform_float(0xffffffffu) == 1.0f - 0x1p-24f);
  REQUIRE(uniform_float_open0(0) == 0x1p-24f);
  REQUIRE(uniform_float_open0(0xffffffffu) == 1.0f);
  REQUIRE(uniform_double(0, 0) == 0.0);
  REQUIRE(uniform_double(0xffffffffu, 0xffffffffu) == 1.0 - 0x1p-53);
}

TEST_CASE("a generator hands out disjoint block ranges", "[core]") {
  Generator g(42);
  REQUIRE(g.reserve(10) == 0);
  REQUIRE(g.reserve(3) == 10);
  REQUIRE(g.offset() == 13);
  g.set_state(43, 100);
  REQUIRE(g.seed() == 43);
  REQUIRE(g.reserve(1) == 100);
  manual_seed(5);
  REQUIRE(default_generator().seed() == 5);
  REQUIRE(default_generator().offset() == 0);
}
