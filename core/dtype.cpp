#include "core/dtype.h"

#include "core/error.h"

namespace simclr {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return 4;
    case DType::f64:
      return 8;
    case DType::bf16:
      return 2;
    case DType::f16:
      return 2;
    case DType::u8:
      return 1;
    case DType::i32:
      return 4;
    case DType::i64:
      return 8;
  }
  SIMCLR_THROW("unknown dtype code ", static_cast<int>(dtype));
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return "f32";
    case DType::f64:
      return "f64";
    case DType::bf16:
      return "bf16";
    case DType::f16:
      return "f16";
    case DType::u8:
      return "u8";
    case DType::i32:
      return "i32";
    case DType::i64:
      return "i64";
  }
  return "unknown";
}

DType dtype_from_name(const std::string& name) {
  for (DType d :
       {DType::f32, DType::f64, DType::bf16, DType::f16, DType::u8, DType::i32, DType::i64}) {
    if (name == dtype_name(d)) return d;
  }
  SIMCLR_THROW("unknown dtype '", name, "': expected one of f32, f64, bf16, f16, u8, i32, i64");
}

bool is_floating(DType dtype) {
  return dtype == DType::f32 || dtype == DType::f64 || dtype == DType::bf16 || dtype == DType::f16;
}

void throw_unsupported_dtype(DType dtype, const char* op, const char* expected) {
  SIMCLR_THROW(op, ": expected ", expected, ", got ", dtype_name(dtype));
}

}  // namespace simclr
