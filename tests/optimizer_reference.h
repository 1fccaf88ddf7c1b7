// A double-precision reference of the optimizer rules, written from SimCLR's lars_optimizer.py and
// from the update formulas of torch.optim.SGD and torch.optim.AdamW, independently of
// kernels/optimizer_math.h; and helpers to run it beside the fused op on the same numbers.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/optimizer.h"
#include "test_util.h"

namespace simclr::test {

// One parameter in double: weights, gradient and the two states (momentum or exp_avg, exp_avg_sq).
struct RefParam {
  std::vector<double> w, g, s0, s1;
  bool decay = true;
};

inline double sum_squares(const std::vector<double>& x) {
  double s = 0;
  for (double v : x) s += v * v;
  return s;
}

inline void reference_lars(const OptimizerHyper& h, RefParam& p) {
  std::vector<double> g = p.g;
  for (size_t i = 0; i < g.size(); ++i)
    if (p.decay) g[i] += h.weight_decay * p.w[i];
  double trust = 1.0;
  if (p.decay) {
    const double w_norm = std::sqrt(sum_squares(p.w)), g_norm = std::sqrt(sum_squares(g));
    if (w_norm > 0 && g_norm > 0) trust = h.trust_coefficient * w_norm / g_norm;
  }
  const double scaled_lr = h.lr * trust;
  for (size_t i = 0; i < g.size(); ++i) {
    p.s0[i] = h.momentum * p.s0[i] + scaled_lr * g[i];
    p.w[i] -= h.nesterov ? h.momentum * p.s0[i] + scaled_lr * g[i] : p.s0[i];
  }
}

// torch.optim.SGD (dampening 0): the buffer is d_p itself on the first step (h.step == 1).
inline void reference_sgd(const OptimizerHyper& h, RefParam& p) {
  for (size_t i = 0; i < p.w.size(); ++i) {
    const double d = p.decay ? p.g[i] + h.weight_decay * p.w[i] : p.g[i];
    p.s0[i] = h.step == 1 ? d : h.momentum * p.s0[i] + d;
    p.w[i] -= h.lr * (h.nesterov ? d + h.momentum * p.s0[i] : p.s0[i]);
  }
}

inline void reference_adamw(const OptimizerHyper& h, RefParam& p) {
  const auto t = static_cast<double>(h.step);
  const double bias1 = 1 - std::pow(h.beta1, t), bias2 = 1 - std::pow(h.beta2, t);
  for (size_t i = 0; i < p.w.size(); ++i) {
    if (p.decay) p.w[i] *= 1 - h.lr * h.weight_decay;
    p.s0[i] = h.beta1 * p.s0[i] + (1 - h.beta1) * p.g[i];
    p.s1[i] = h.beta2 * p.s1[i] + (1 - h.beta2) * p.g[i] * p.g[i];
    const double denom = std::sqrt(p.s1[i]) / std::sqrt(bias2) + h.eps;
    p.w[i] -= h.lr / bias1 * p.s0[i] / denom;
  }
}

inline void reference_step(const OptimizerHyper& h, RefParam& p) {
  switch (h.rule) {
    case OptimizerRule::lars:
      reference_lars(h, p);
      break;
    case OptimizerRule::sgd:
      reference_sgd(h, p);
      break;
    case OptimizerRule::adamw:
      reference_adamw(h, p);
      break;
  }
}

// An f32 CPU tensor [n] holding `x` (rounded to float).
inline Tensor f32_tensor(const std::vector<double>& x) {
  std::vector<float> f(x.begin(), x.end());
  return from_vector(f, {static_cast<int64_t>(f.size())});
}

// The optimizer variants the kernel tests run, each with hyper-parameters that make every term
// of its update matter.
struct Case {
  const char* name;
  OptimizerHyper hyper;
};

inline std::vector<Case> cases() {
  OptimizerHyper lars;
  lars.lr = 0.8;
  lars.weight_decay = 1e-3;
  OptimizerHyper lars_nesterov = lars;
  lars_nesterov.nesterov = true;
  OptimizerHyper sgd;
  sgd.rule = OptimizerRule::sgd;
  sgd.lr = 0.1;
  sgd.weight_decay = 1e-2;
  OptimizerHyper sgd_nesterov = sgd;
  sgd_nesterov.nesterov = true;
  OptimizerHyper adamw;
  adamw.rule = OptimizerRule::adamw;
  adamw.lr = 0.01;
  adamw.weight_decay = 0.05;
  return {{"lars", lars},
          {"lars nesterov", lars_nesterov},
          {"sgd", sgd},
          {"sgd nesterov", sgd_nesterov},
          {"adamw", adamw}};
}

}  // namespace simclr::test
