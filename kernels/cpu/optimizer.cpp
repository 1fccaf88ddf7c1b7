// The fused optimizer update, the readable reference: tensor by tensor, LARS first sums the squares
// of w and of the decayed gradient in double, in element order, then every element goes through
// the shared per-element math (kernels/optimizer_math.h), as on CUDA.
#include "kernels/backends.h"
#include "kernels/optimizer_math.h"

namespace simclr::cpu {

namespace {

// LARS's lr * trust ratio for one tensor.
float tensor_scaled_lr(const OptimizerScalars& s, const OptimizerTensor& t) {
  if (!t.decay) return s.lr;
  double w_sq = 0, g_sq = 0;
  for (int64_t i = 0; i < t.numel; ++i) {
    const float w = t.param[i];
    const float g = optim::decayed_grad(t.grad[i], w, s.weight_decay, t.decay);
    w_sq += static_cast<double>(w) * w;
    g_sq += static_cast<double>(g) * g;
  }
  return optim::lars_scaled_lr(s, t.decay, static_cast<float>(w_sq), static_cast<float>(g_sq));
}

}  // namespace

void optimizer_step(const OptimizerScalars& scalars, const OptimizerTensor* tensors, int64_t count,
                    Stream) {
  for (int64_t k = 0; k < count; ++k) {
    const OptimizerTensor& t = tensors[k];
    const float scaled_lr =
        scalars.rule == OptimizerRule::lars ? tensor_scaled_lr(scalars, t) : scalars.lr;
    for (int64_t i = 0; i < t.numel; ++i) optim::update_element(scalars, t, scaled_lr, i);
  }
}

}  // namespace simclr::cpu
