// The fused optimizer updates (LARS, SGD with momentum, AdamW): the kernel-level types and the
// per-element math, written once as SIMCLR_HD functions so that the CPU reference
// (kernels/cpu/optimizer.cpp) and the CUDA kernels (kernels/cuda/optimizer.cu) evaluate the same
// fp32 expressions and differ only in how they split the work. The rules follow SimCLR's
// lars_optimizer.py (classic momentum), torch.optim.SGD and torch.optim.AdamW; kernels/optimizer.h
// states them in full.
#pragma once

#include <cstdint>

#include "core/macros.h"
#include "kernels/elementwise_math.h"

namespace simclr {

enum class OptimizerRule : uint8_t { lars, sgd, adamw };

// The scalars of one step, in fp32 as the kernels use them (kernels/optimizer.cpp derives them in
// double from the hyperparameters and the step count).
struct OptimizerScalars {
  OptimizerRule rule = OptimizerRule::lars;
  float lr = 0, momentum = 0, weight_decay = 0, trust_coefficient = 0;
  bool nesterov = false;
  float beta1 = 0, beta2 = 0, eps = 0;
  float adam_step_size = 0;      // lr / (1 - beta1^t)
  float adam_bias2_sqrt = 1;     // sqrt(1 - beta2^t)
  float adamw_decay_factor = 1;  // 1 - lr * weight_decay
};

// One fp32 parameter of the update, contiguous. state0 is the momentum (LARS, SGD) or exp_avg
// (AdamW); state1 is exp_avg_sq (AdamW only, else null). `decay`: the parameter takes weight decay
// (and, for LARS, the trust ratio); false for biases and BN parameters.
struct OptimizerTensor {
  float* param = nullptr;
  const float* grad = nullptr;
  float* state0 = nullptr;
  float* state1 = nullptr;
  int64_t numel = 0;
  bool decay = true;
};

namespace optim {

// The gradient after weight decay (LARS, SGD): g + wd * w for decayed parameters.
SIMCLR_HD_INLINE float decayed_grad(float g, float w, float weight_decay, bool decay) {
  return decay ? g + weight_decay * w : g;
}

// lr * trust ratio from the sums of squares of w and of the decayed gradient: the trust ratio is
// eta * ||w|| / ||g|| when both norms are positive, else 1 (and 1 for parameters that do not
// adapt).
SIMCLR_HD_INLINE float lars_scaled_lr(const OptimizerScalars& s, bool adapt, float w_sq,
                                      float g_sq) {
  if (!adapt) return s.lr;
  const float w_norm = math::sqrt(w_sq);
  const float g_norm = math::sqrt(g_sq);
  const float trust = w_norm > 0.0f && g_norm > 0.0f ? s.trust_coefficient * w_norm / g_norm : 1.0f;
  return s.lr * trust;
}

// LARS with classic momentum: v = m * v + scaled_lr * g; w -= v (or, with Nesterov, w -= m * v +
// scaled_lr * g). g is the decayed gradient.
SIMCLR_HD_INLINE void lars_update(const OptimizerScalars& s, float scaled_lr, float g, float& w,
                                  float& v) {
  v = s.momentum * v + scaled_lr * g;
  w -= s.nesterov ? s.momentum * v + scaled_lr * g : v;
}

// torch.optim.SGD: v = m * v + g (v starts at zero, so the first step gives v = g exactly);
// w -= lr * v, or with Nesterov w -= lr * (g + m * v). g is the decayed gradient.
SIMCLR_HD_INLINE void sgd_update(const OptimizerScalars& s, float g, float& w, float& v) {
  v = s.momentum * v + g;
  w -= s.lr * (s.nesterov ? g + s.momentum * v : v);
}

// torch.optim.AdamW: w *= 1 - lr * wd (decayed parameters); m = b1 m + (1 - b1) g;
// v = b2 v + (1 - b2) g^2; w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
SIMCLR_HD_INLINE void adamw_update(const OptimizerScalars& s, bool decay, float g, float& w,
                                   float& m, float& v) {
  if (decay) w *= s.adamw_decay_factor;
  m = s.beta1 * m + (1.0f - s.beta1) * g;
  v = s.beta2 * v + (1.0f - s.beta2) * g * g;
  const float denom = math::sqrt(v) / s.adam_bias2_sqrt + s.eps;
  w -= s.adam_step_size * m / denom;
}

// Element i of one tensor; scaled_lr is LARS's lr * trust ratio for this tensor (unused otherwise).
SIMCLR_HD_INLINE void update_element(const OptimizerScalars& s, const OptimizerTensor& t,
                                     float scaled_lr, int64_t i) {
  float w = t.param[i];
  const float g = t.grad[i];
  switch (s.rule) {
    case OptimizerRule::lars:
      lars_update(s, scaled_lr, decayed_grad(g, w, s.weight_decay, t.decay), w, t.state0[i]);
      break;
    case OptimizerRule::sgd:
      sgd_update(s, decayed_grad(g, w, s.weight_decay, t.decay), w, t.state0[i]);
      break;
    case OptimizerRule::adamw:
      adamw_update(s, t.decay, g, w, t.state0[i], t.state1[i]);
      break;
  }
  t.param[i] = w;
}

}  // namespace optim

}  // namespace simclr
