// Layout: the sizes and strides (in elements) of one operand, as a plain struct that kernels take
// by value on host and device. Broadcasting is a stride of 0.
#pragma once

#include <cstdint>

#include "core/macros.h"

namespace simclr {

constexpr int kMaxDims = 8;

struct Layout {
  int ndim = 0;
  int64_t sizes[kMaxDims] = {};
  int64_t strides[kMaxDims] = {};

  SIMCLR_HD_INLINE int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i) n *= sizes[i];
    return n;
  }

  // Element offset of the `linear`-th element in row-major order over `sizes`.
  SIMCLR_HD_INLINE int64_t offset(int64_t linear) const {
    int64_t off = 0;
    for (int i = ndim - 1; i >= 0; --i) {
      const int64_t size = sizes[i];
      off += (linear % size) * strides[i];
      linear /= size;
    }
    return off;
  }

  SIMCLR_HD_INLINE bool contiguous() const {
    int64_t expected = 1;
    for (int i = ndim - 1; i >= 0; --i) {
      if (sizes[i] != 1 && strides[i] != expected) return false;
      expected *= sizes[i];
    }
    return true;
  }
};

}  // namespace simclr
