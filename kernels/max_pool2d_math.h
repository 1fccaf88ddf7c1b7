// Window arithmetic of 2-D max pooling, shared by the CPU reference (kernels/cpu/max_pool2d.cpp)
// and the CUDA kernels (kernels/cuda/max_pool2d.cu) so that both pick the same maxima and sum
// the same gradients in the same order.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/macros.h"
#include "kernels/backends.h"
#include "kernels/cast.h"

namespace simclr::pool {

// The window of output index o along one dimension, clipped to the input [0, size): padding
// never takes part (it acts as -inf).
struct Range {
  int64_t begin, end;
};
SIMCLR_HD_INLINE Range window(int64_t o, int64_t kernel, int64_t stride, int64_t pad,
                              int64_t size) {
  const int64_t start = o * stride - pad;
  return {start < 0 ? 0 : start, start + kernel < size ? start + kernel : size};
}

// The output indices [begin, end) along one dimension whose windows cover input index i:
// o * stride - pad <= i <= o * stride - pad + kernel - 1, and 0 <= o < outputs.
SIMCLR_HD_INLINE Range covering(int64_t i, int64_t kernel, int64_t stride, int64_t pad,
                                int64_t outputs) {
  const int64_t lo = i + pad - kernel + 1;
  const int64_t begin = lo <= 0 ? 0 : (lo + stride - 1) / stride;
  const int64_t end = (i + pad) / stride + 1;
  return {begin, end < outputs ? end : outputs};
}

// Whether v replaces the running maximum: larger, or NaN (NaN propagates, as in PyTorch).
template <typename A>
SIMCLR_HD_INLINE bool max_wins(A v, A best) {
  return v > best || v != v;
}

// Output (n, p, q, c): the first maximum of its window in A, and where it was (h * s.w + w, within
// its image and channel) in *where.
template <typename A, typename T>
SIMCLR_HD_INLINE A window_max(const T* x, const PoolShape& s, int64_t n, int64_t p, int64_t q,
                              int64_t c, int64_t* where) {
  const Range hr = window(p, s.kernel_h, s.stride_h, s.pad_h, s.h);
  const Range wr = window(q, s.kernel_w, s.stride_w, s.pad_w, s.w);
  A best = -INFINITY;
  *where = hr.begin * s.w + wr.begin;
  for (int64_t h = hr.begin; h < hr.end; ++h) {
    for (int64_t w = wr.begin; w < wr.end; ++w) {
      const A v = cast_element<A>(x[((n * s.h + h) * s.w + w) * s.c + c]);
      if (max_wins(v, best)) {
        best = v;
        *where = h * s.w + w;
      }
    }
  }
  return best;
}

}  // namespace simclr::pool
