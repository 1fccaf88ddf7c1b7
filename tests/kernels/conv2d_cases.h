// Shapes shared by the conv2d tests (conv2d_test.cpp on the CPU, conv2d_cuda_test.cpp on cuDNN):
// odd kernel sizes (1x1, 3x3, 7x7, 3x5), strides, padding and dilation, 1 to 16 channels.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/nn_ops.h"

namespace simclr::test {

struct ConvCase {
  std::string name;
  int64_t n, h, w, c, k, r, s;  // x [n, h, w, c], weight [k, r, s, c]
  Conv2dOptions options;
};

inline Conv2dOptions opts(std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
                          std::array<int64_t, 2> dilation = {1, 1}) {
  Conv2dOptions o;
  o.stride = stride;
  o.padding = padding;
  o.dilation = dilation;
  return o;
}

// The first two (1x1, stride 1, no padding) take the CPU's 1x1 fast path.
inline const std::vector<ConvCase>& conv_cases() {
  static const std::vector<ConvCase> cases{
      {"1x1 stride 1 no padding", 3, 7, 5, 16, 5, 1, 1, opts({1, 1}, {0, 0})},
      {"1x1 one channel", 1, 4, 6, 1, 3, 1, 1, opts({1, 1}, {0, 0})},
      {"1x1 stride 2", 3, 9, 8, 5, 3, 1, 1, opts({2, 2}, {0, 0})},
      {"1x1 padding 1", 1, 5, 4, 3, 2, 1, 1, opts({1, 1}, {1, 1})},
      {"3x3 padding 1", 1, 8, 7, 3, 4, 3, 3, opts({1, 1}, {1, 1})},
      {"3x3 no padding one channel", 3, 6, 9, 1, 2, 3, 3, opts({1, 1}, {0, 0})},
      {"3x3 stride 2 padding 1 16 channels", 3, 11, 9, 16, 8, 3, 3, opts({2, 2}, {1, 1})},
      {"3x3 stride 1 padding 1 16 channels", 3, 9, 8, 16, 8, 3, 3, opts({1, 1}, {1, 1})},
      {"3x3 dilation 2 padding 1 8 channels", 1, 10, 9, 8, 5, 3, 3, opts({1, 1}, {1, 1}, {2, 2})},
      {"3x3 padding 3 8 channels", 1, 6, 5, 8, 3, 3, 3, opts({1, 1}, {3, 3})},
      {"3x5 padding 2x1 8 channels", 3, 7, 9, 8, 4, 3, 5, opts({1, 1}, {2, 1})},
      {"3x3 dilation 2 padding 2", 3, 9, 10, 5, 3, 3, 3, opts({1, 1}, {2, 2}, {2, 2})},
      {"3x3 stride 2 dilation 2 padding 3", 1, 12, 11, 3, 4, 3, 3, opts({2, 2}, {3, 3}, {2, 2})},
      {"7x7 stride 2 padding 3 (ImageNet stem)", 3, 17, 19, 3, 5, 7, 7, opts({2, 2}, {3, 3})},
      {"7x7 larger than the input with padding 3", 1, 5, 4, 5, 3, 7, 7, opts({1, 1}, {3, 3})},
      {"3x5 stride 2x1 padding 0x3 dilation 2x1", 3, 10, 12, 5, 6, 3, 5,
       opts({2, 1}, {0, 3}, {2, 1})},
      {"3x5 stride 1x2 padding 1x0 dilation 1x2", 1, 7, 13, 16, 3, 3, 5,
       opts({1, 2}, {1, 0}, {1, 2})},
  };
  return cases;
}

}  // namespace simclr::test
