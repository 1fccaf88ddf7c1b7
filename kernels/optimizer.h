// optimizer_step: one fused, in-place update of many fp32 parameters under one rule, the engine
// under simclr/optimizer.h. Per parameter, with g its gradient and `decay` its flag (false for
// biases and BN parameters, which take neither weight decay nor LARS's adaptation):
//   LARS (SimCLR's lars_optimizer.py, classic momentum): g += wd * w if decay; trust = eta * ||w||
//     / ||g|| if decay and both norms are positive, else 1; v = m * v + lr * trust * g; w -= v
//     (Nesterov: w -= m * v + lr * trust * g).
//   SGD (torch.optim.SGD, no dampening): g += wd * w if decay; v = m * v + g (v starts at zero,
//     so the first step gives v = g); w -= lr * v (Nesterov: w -= lr * (g + m * v)).
//   AdamW (torch.optim.AdamW): w *= 1 - lr * wd if decay; m = b1 m + (1 - b1) g;
//     v = b2 v + (1 - b2) g^2; w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
// The arithmetic is fp32 (kernels/optimizer_math.h); LARS's norms are reduced in a fixed order, so
// an update is deterministic on each backend. On CUDA the whole list is one launch (two for LARS).
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "kernels/optimizer_math.h"

namespace simclr {

struct OptimizerHyper {
  OptimizerRule rule = OptimizerRule::lars;
  double lr = 0.0;
  double momentum = 0.9, weight_decay = 1e-6, trust_coefficient = 0.001;  // eta, LARS only
  bool nesterov = false;                                                  // LARS and SGD
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;                          // AdamW
  int64_t step = 1;  // the 1-based number of this update: AdamW's bias corrections
};

// One parameter of the update. param and the states are contiguous f32 tensors of one shape,
// updated in place; grad has that shape (any strides). state0 is the momentum buffer (LARS, SGD)
// or exp_avg (AdamW); state1 is exp_avg_sq (AdamW only).
struct OptimizerSlot {
  Tensor param, grad, state0, state1;
  bool decay = true;
};

// The fp32 scalars the kernels use, derived in double from the hyperparameters.
OptimizerScalars optimizer_scalars(const OptimizerHyper& hyper);

// Updates every slot (all on one device) in place; records no autograd.
void optimizer_step(const OptimizerHyper& hyper, const std::vector<OptimizerSlot>& slots);

}  // namespace simclr
