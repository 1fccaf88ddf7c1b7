// bf16 and f16 storage types: 16-bit patterns with round-to-nearest-even conversion from float.
// Written in plain integer arithmetic so that host and device round identically; the layouts
// match __nv_bfloat16 and __half, so buffers can be handed to cuBLAS and cuDNN as they are.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/macros.h"

namespace simclr {

SIMCLR_HD_INLINE uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
#endif
}

SIMCLR_HD_INLINE float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
}

struct bf16 {
  uint16_t bits;

  bf16() = default;
  SIMCLR_HD_INLINE explicit bf16(float f) : bits(from_float(f)) {}
  SIMCLR_HD_INLINE explicit bf16(double d) : bits(from_float(static_cast<float>(d))) {}
  SIMCLR_HD_INLINE operator float() const { return bits_float(uint32_t{bits} << 16); }

  SIMCLR_HD_INLINE static uint16_t from_float(float f) {
    uint32_t u = float_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // NaN
    uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
    return static_cast<uint16_t>((u + rounding) >> 16);
  }
};

struct f16 {
  uint16_t bits;

  f16() = default;
  SIMCLR_HD_INLINE explicit f16(float f) : bits(from_float(f)) {}
  SIMCLR_HD_INLINE explicit f16(double d) : bits(from_float(static_cast<float>(d))) {}
  SIMCLR_HD_INLINE operator float() const { return to_float(bits); }

  SIMCLR_HD_INLINE static uint16_t from_float(float f) {
    uint32_t u = float_bits(f);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t abs = u & 0x7fffffffu;
    if (abs > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);   // NaN
    if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
    if (abs < 0x38800000u) {
      // Subnormal or zero in f16: shift the (implicit-1) mantissa into place, round to even.
      if (abs < 0x33000000u) return static_cast<uint16_t>(sign);
      uint32_t exp = abs >> 23;
      uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
      // value = mant * 2^(exp-150); in units of the f16 subnormal step 2^-24 that is mant >> shift.
      uint32_t shift = 126u - exp;
      uint32_t half_ulp = 1u << (shift - 1);
      uint32_t rest = mant & ((1u << shift) - 1u);
      uint32_t result = mant >> shift;
      if (rest > half_ulp || (rest == half_ulp && (result & 1u))) ++result;
      return static_cast<uint16_t>(sign | result);
    }
    uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
    return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
  }

  SIMCLR_HD_INLINE static float to_float(uint16_t h) {
    uint32_t sign = uint32_t{h & 0x8000u} << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1fu) return bits_float(sign | 0x7f800000u | (mant << 13));
    if (exp == 0) {
      if (mant == 0) return bits_float(sign);
      // Subnormal: value = mant * 2^-24, exact in float.
      float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
      return sign ? -v : v;
    }
    return bits_float(sign | ((exp + 112u) << 23) | (mant << 13));
  }
};

}  // namespace simclr
