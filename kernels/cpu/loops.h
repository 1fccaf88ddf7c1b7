// The CPU backend's one loop: visits every element of N operands that share sizes, in row-major
// order, with each operand's element offset. Contiguous operands take a plain index; otherwise an
// odometer over the dimensions advances the offsets without divisions.
#pragma once

#include <array>
#include <cstdint>

#include "kernels/layout.h"

namespace simclr::cpu {

template <size_t N, typename F>
void for_each_offset(const std::array<Layout, N>& layouts, F&& f) {
  const Layout& shape = layouts[0];
  const int64_t n = shape.numel();
  if (n == 0) return;
  bool contiguous = true;
  for (const Layout& l : layouts) contiguous = contiguous && l.contiguous();
  std::array<int64_t, N> off{};
  if (contiguous) {
    for (int64_t i = 0; i < n; ++i) {
      off.fill(i);
      f(i, off);
    }
    return;
  }
  int64_t index[kMaxDims] = {};
  for (int64_t i = 0; i < n; ++i) {
    f(i, off);
    for (int d = shape.ndim - 1; d >= 0; --d) {
      for (size_t k = 0; k < N; ++k) off[k] += layouts[k].strides[d];
      if (++index[d] < shape.sizes[d]) break;
      for (size_t k = 0; k < N; ++k) off[k] -= layouts[k].strides[d] * shape.sizes[d];
      index[d] = 0;
    }
  }
}

}  // namespace simclr::cpu
