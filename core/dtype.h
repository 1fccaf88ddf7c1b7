// DType: the element types a Tensor can hold, with sizes, names and a dispatcher that turns a
// runtime DType into a compile-time C++ type for kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "core/half.h"

namespace simclr {

enum class DType : uint8_t { f32, f64, bf16, f16, u8, i32, i64 };

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);  // "f32", "bf16", ...
DType dtype_from_name(const std::string& name);
bool is_floating(DType dtype);

template <typename T>
struct TypeTag {
  using type = T;
};

template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::f32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::f64;
}
template <>
constexpr DType dtype_of<bf16>() {
  return DType::bf16;
}
template <>
constexpr DType dtype_of<f16>() {
  return DType::f16;
}
template <>
constexpr DType dtype_of<uint8_t>() {
  return DType::u8;
}
template <>
constexpr DType dtype_of<int32_t>() {
  return DType::i32;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::i64;
}

// Accumulation type: fp64 for fp64 data, fp32 for every other floating type.
template <typename T>
using acc_type = std::conditional_t<std::is_same_v<T, double>, double, float>;

[[noreturn]] void throw_unsupported_dtype(DType dtype, const char* op, const char* expected);

// Calls f(TypeTag<T>{}) for the floating dtypes.
template <typename F>
void dispatch_floating(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::f32:
      f(TypeTag<float>{});
      return;
    case DType::f64:
      f(TypeTag<double>{});
      return;
    case DType::bf16:
      f(TypeTag<bf16>{});
      return;
    case DType::f16:
      f(TypeTag<f16>{});
      return;
    default:
      throw_unsupported_dtype(dtype, op, "a floating dtype (f32, f64, bf16, f16)");
  }
}

// Calls f(TypeTag<T>{}) for every dtype.
template <typename F>
void dispatch_all(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::u8:
      f(TypeTag<uint8_t>{});
      return;
    case DType::i32:
      f(TypeTag<int32_t>{});
      return;
    case DType::i64:
      f(TypeTag<int64_t>{});
      return;
    default:
      dispatch_floating(dtype, op, static_cast<F&&>(f));
  }
}

}  // namespace simclr
