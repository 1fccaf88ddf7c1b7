// The ops that layers/ builds on: convolution, batch norm (with its fused ReLU and residual
// forms) and max pooling, on NHWC activations. Same rules as kernels/ops.h: checked arguments,
// dispatch by device, autograd.
#pragma once

#include <array>

#include "kernels/ops.h"

namespace simclr {

struct Conv2dOptions {
  std::array<int64_t, 2> stride{1, 1};
  std::array<int64_t, 2> padding{0, 0};
  std::array<int64_t, 2> dilation{1, 1};
};

// x [n, h, w, c] NHWC, weight [k, r, s, c], bias [k] or undefined -> [n, p, q, k].
// x and weight share a dtype (bias too); gradients for all three.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              const Conv2dOptions& options = {});

// x [..., c] (channels last: [n, c] or [n, h, w, c]); gamma, beta, running_mean, running_var [c]
// in f32. Training updates the running statistics in place (no gradient flows into them).
// residual (same shape as x, or undefined) is added before the optional ReLU:
// relu(bn(x) + residual), the tail of a ResNet block. Gradients for x, gamma, beta, residual.
Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, Tensor& running_mean,
                  Tensor& running_var, bool training, double momentum = 0.1, double eps = 1e-5,
                  const Tensor& residual = Tensor(), bool relu = false);

// x [n, h, w, c] -> [n, p, q, c], p = floor((h + 2 pad - kernel) / stride) + 1.
Tensor max_pool2d(const Tensor& x, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                  std::array<int64_t, 2> padding = {0, 0});

// x [..., in] times weight [out, in] transposed, plus bias [out] (or undefined): PyTorch's
// F.linear. On CUDA the bias is added by cuBLASLt's epilogue.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

}  // namespace simclr
