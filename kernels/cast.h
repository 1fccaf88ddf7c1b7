// One element converted between any two dtypes, identically on host and device.
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>

#include "core/half.h"
#include "core/macros.h"

namespace simclr {

template <typename T>
constexpr bool is_half_v = std::is_same_v<T, bf16> || std::is_same_v<T, f16>;

// Floating to integer truncates toward zero and saturates at the integer's range (NaN gives 0):
// C++ leaves out-of-range conversions undefined and GPUs saturate, so both backends saturate.
template <typename O, typename I>
SIMCLR_HD_INLINE O float_to_integer(I x) {
  const double v = static_cast<double>(x);
  if (!(v == v)) return O(0);
  if (v <= static_cast<double>(std::numeric_limits<O>::lowest()))
    return std::numeric_limits<O>::lowest();
  if (v >= static_cast<double>(std::numeric_limits<O>::max())) return std::numeric_limits<O>::max();
  return static_cast<O>(v);
}

template <typename O, typename I>
SIMCLR_HD_INLINE O cast_element(I x) {
  if constexpr (std::is_same_v<O, I>) {
    return x;
  } else if constexpr (is_half_v<I>) {
    return cast_element<O>(static_cast<float>(x));
  } else if constexpr (is_half_v<O>) {
    return O(static_cast<float>(x));
  } else if constexpr (std::is_integral_v<O> && std::is_floating_point_v<I>) {
    return float_to_integer<O>(x);
  } else {
    return static_cast<O>(x);
  }
}

}  // namespace simclr
