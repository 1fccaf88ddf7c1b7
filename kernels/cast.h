// One element converted between any two dtypes, identically on host and device.
#pragma once

#include <cstdint>
#include <type_traits>

#include "core/half.h"
#include "core/macros.h"

namespace simclr {

template <typename T>
constexpr bool is_half_v = std::is_same_v<T, bf16> || std::is_same_v<T, f16>;

template <typename O, typename I>
SIMCLR_HD_INLINE O cast_element(I x) {
  if constexpr (std::is_same_v<O, I>) {
    return x;
  } else if constexpr (is_half_v<I>) {
    return cast_element<O>(static_cast<float>(x));
  } else if constexpr (is_half_v<O>) {
    return O(static_cast<float>(x));
  } else {
    return static_cast<O>(x);
  }
}

}  // namespace simclr
