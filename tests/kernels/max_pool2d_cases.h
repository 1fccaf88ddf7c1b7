// What the max_pool2d tests (max_pool2d_test.cpp on the CPU, max_pool2d_cuda_test.cpp on CUDA)
// share: a case of an input shape and a window, and the output size of a window (floor mode).
#pragma once

#include <array>
#include <cstdint>

#include "core/tensor.h"

namespace simclr::test {

struct PoolCase {
  Shape shape;  // [n, h, w, c]
  std::array<int64_t, 2> kernel, stride, padding;
};

// The number of windows along an axis of `in` elements.
inline int64_t pool_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad) {
  return (in + 2 * pad - kernel) / stride + 1;
}

}  // namespace simclr::test
