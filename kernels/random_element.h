// The random value of element i of a fill, shared by the CPU and CUDA kernels.
#pragma once

#include <type_traits>

#include "core/philox.h"
#include "kernels/cast.h"
#include "kernels/elementwise_math.h"
#include "kernels/op_kinds.h"

namespace simclr {

template <typename T>
SIMCLR_HD_INLINE T random_element(RandomKind kind, uint64_t seed, uint64_t first_block, int64_t i,
                                  double a, double b) {
  const uint64_t index = static_cast<uint64_t>(i);
  if constexpr (std::is_same_v<T, double>) {
    if (kind == RandomKind::uniform) {
      const Philox4 r = philox_block(seed, 0, first_block + index / 2);
      const int w = static_cast<int>(index % 2) * 2;
      return a + (b - a) * uniform_double(r.v[w], r.v[w + 1]);
    }
    const Philox4 r = philox_block(seed, 0, first_block + index);
    const double u1 = 1.0 - uniform_double(r.v[0], r.v[1]);  // (0, 1]
    const double u2 = uniform_double(r.v[2], r.v[3]);
    return a + b * math::sqrt(-2.0 * math::log(u1)) * math::cos(6.283185307179586 * u2);
  } else {
    const Philox4 r = philox_block(seed, 0, first_block + index / 4);
    const int w = static_cast<int>(index % 4);
    if (kind == RandomKind::uniform) {
      const float u = uniform_float(r.v[w]);
      return cast_element<T>(static_cast<float>(a + (b - a) * static_cast<double>(u)));
    }
    // Box-Muller on the word pair (0, 1) for elements 0 and 1 of the block, (2, 3) for 2 and 3.
    const int pair = w & ~1;
    const float u1 = uniform_float_open0(r.v[pair]);
    const float u2 = uniform_float(r.v[pair + 1]);
    const float radius = math::sqrt(-2.0f * math::log(u1));
    const float angle = 6.2831853f * u2;
    const float z = (w & 1) ? radius * math::sin(angle) : radius * math::cos(angle);
    return cast_element<T>(static_cast<float>(a + b * static_cast<double>(z)));
  }
}

}  // namespace simclr
