// Per-element math of batch norm, shared by the CPU reference (kernels/cpu/batch_norm.cpp) and the
// CUDA kernels (kernels/cuda/batch_norm.cu), so that both evaluate the same expressions. A is the
// accumulation type: float, or double for f64 tensors. Statistics of one channel are merged with
// Chan's formulas, in a fixed order chosen by the caller.
#pragma once

#include "core/macros.h"
#include "kernels/elementwise_math.h"

namespace simclr::bn {

// 1 / sqrt(var + eps).
template <typename A>
SIMCLR_HD_INLINE A invstd(A var, A eps) {
  return A(1) / math::sqrt(var + eps);
}

// y = (x - mean) * scale + beta (+ residual), then ReLU when `relu`; scale = gamma * invstd.
template <typename A>
SIMCLR_HD_INLINE A forward(A x, A mean, A scale, A beta, A residual, bool relu) {
  const A v = (x - mean) * scale + beta + residual;
  return relu && v <= A(0) ? A(0) : v;
}

// The gradient that reaches the pre-activation (and the residual): grad_y where y > 0 under ReLU.
template <typename A>
SIMCLR_HD_INLINE A masked_grad(A grad_y, A y, bool relu) {
  return relu && !(y > A(0)) ? A(0) : grad_y;
}

// grad_x from g (the masked gradient), xhat = (x - mean) * invstd and scale = gamma * invstd.
// Training: scale * (g - mean(g) - xhat * mean(g * xhat)), the means over the channel's rows;
// eval: the statistics are constants, g * scale.
template <typename A>
SIMCLR_HD_INLINE A grad_input(A g, A xhat, A scale, A mean_g, A mean_g_xhat, bool training) {
  return training ? scale * (g - mean_g - xhat * mean_g_xhat) : g * scale;
}

// PyTorch's running-statistics rule: (1 - momentum) * running + momentum * batch.
SIMCLR_HD_INLINE float running_update(float running, float batch, float momentum) {
  return (1.0f - momentum) * running + momentum * batch;
}

// The count, mean and sum of squared deviations (M2) of a set of values.
template <typename A>
struct Moments {
  A n, mean, m2;
};

// The moments of the union of two disjoint sets (Chan et al.); empty sets are neutral.
template <typename A>
SIMCLR_HD_INLINE Moments<A> merge(const Moments<A>& a, const Moments<A>& b) {
  if (b.n == A(0)) return a;
  if (a.n == A(0)) return b;
  const A n = a.n + b.n;
  const A d = b.mean - a.mean;
  const A fb = b.n / n;
  return {n, a.mean + d * fb, a.m2 + b.m2 + d * d * a.n * fb};
}

}  // namespace simclr::bn
