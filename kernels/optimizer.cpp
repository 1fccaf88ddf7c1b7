// optimizer_step: checks the hyperparameters and every slot, builds the kernels' table of raw
// pointers and dispatches to kernels/cpu/optimizer.cpp or kernels/cuda/optimizer.cu.
#include "kernels/optimizer.h"

#include <cmath>
#include <string>

#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace simclr {

namespace {

const char* rule_name(OptimizerRule rule) {
  switch (rule) {
    case OptimizerRule::lars:
      return "lars";
    case OptimizerRule::sgd:
      return "sgd";
    case OptimizerRule::adamw:
      return "adamw";
  }
  return "?";
}

void check_hyper(const OptimizerHyper& h) {
  const char* rule = rule_name(h.rule);
  SIMCLR_CHECK(std::isfinite(h.lr) && h.lr >= 0, "optimizer_step (", rule,
               "): expected a finite learning rate >= 0, got ", h.lr);
  SIMCLR_CHECK(h.weight_decay >= 0, "optimizer_step (", rule, "): expected weight_decay >= 0, got ",
               h.weight_decay);
  SIMCLR_CHECK(h.step >= 1, "optimizer_step (", rule, "): expected a step number >= 1, got ",
               h.step);
  if (h.rule == OptimizerRule::adamw) {
    SIMCLR_CHECK(h.beta1 >= 0 && h.beta1 < 1 && h.beta2 >= 0 && h.beta2 < 1,
                 "optimizer_step (adamw): expected betas in [0, 1), got (", h.beta1, ", ", h.beta2,
                 ")");
    SIMCLR_CHECK(h.eps > 0, "optimizer_step (adamw): expected eps > 0, got ", h.eps);
    return;
  }
  SIMCLR_CHECK(h.momentum >= 0, "optimizer_step (", rule, "): expected momentum >= 0, got ",
               h.momentum);
  SIMCLR_CHECK(!h.nesterov || h.momentum > 0, "optimizer_step (", rule,
               "): Nesterov momentum needs momentum > 0, got ", h.momentum);
  SIMCLR_CHECK(h.rule != OptimizerRule::lars || h.trust_coefficient > 0,
               "optimizer_step (lars): expected a trust coefficient > 0, got ",
               h.trust_coefficient);
}

// A contiguous f32 tensor of the parameter's shape on its device.
void check_state(const Tensor& state, const Tensor& param, const char* what, size_t k) {
  SIMCLR_CHECK(state.defined() && state.dtype() == DType::f32 && state.is_contiguous() &&
                   state.shape() == param.shape() && state.device() == param.device(),
               "optimizer_step: expected ", what, " of slot ", k, " to be a contiguous f32 tensor ",
               param.shape().str(), " on ", param.device().str(), ", got ",
               state.defined() ? state.str() : std::string("undefined"));
}

void check_slot(const OptimizerSlot& slot, size_t k, OptimizerRule rule, Device device) {
  const Tensor& p = slot.param;
  SIMCLR_CHECK(p.defined() && p.dtype() == DType::f32 && p.is_contiguous() && p.device() == device,
               "optimizer_step: expected the parameter of slot ", k,
               " to be a contiguous f32 tensor on ", device.str(),
               " (the first slot's device), got ",
               p.defined() ? p.str() : std::string("undefined"));
  SIMCLR_CHECK(slot.grad.defined() && slot.grad.dtype() == DType::f32 &&
                   slot.grad.shape() == p.shape() && slot.grad.device() == device,
               "optimizer_step: expected the gradient of slot ", k, " to be an f32 tensor ",
               p.shape().str(), " on ", device.str(), ", got ",
               slot.grad.defined() ? slot.grad.str() : std::string("undefined"));
  check_state(slot.state0, p, rule == OptimizerRule::adamw ? "exp_avg" : "the momentum", k);
  if (rule == OptimizerRule::adamw) check_state(slot.state1, p, "exp_avg_sq", k);
}

}  // namespace

OptimizerScalars optimizer_scalars(const OptimizerHyper& h) {
  OptimizerScalars s;
  s.rule = h.rule;
  s.lr = static_cast<float>(h.lr);
  s.momentum = static_cast<float>(h.momentum);
  s.weight_decay = static_cast<float>(h.weight_decay);
  s.trust_coefficient = static_cast<float>(h.trust_coefficient);
  s.nesterov = h.nesterov;
  s.beta1 = static_cast<float>(h.beta1);
  s.beta2 = static_cast<float>(h.beta2);
  s.eps = static_cast<float>(h.eps);
  const auto t = static_cast<double>(h.step);
  s.adam_step_size = static_cast<float>(h.lr / (1.0 - std::pow(h.beta1, t)));
  s.adam_bias2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(h.beta2, t)));
  s.adamw_decay_factor = static_cast<float>(1.0 - h.lr * h.weight_decay);
  return s;
}

void optimizer_step(const OptimizerHyper& hyper, const std::vector<OptimizerSlot>& slots) {
  check_hyper(hyper);
  if (slots.empty()) return;
  NoGradGuard no_grad;
  const Device device = slots[0].param.defined() ? slots[0].param.device() : Device::cpu();
  // Contiguous gradients stay alive in `grads` until the kernels have been queued.
  std::vector<Tensor> grads;
  std::vector<OptimizerTensor> table;
  grads.reserve(slots.size());
  table.reserve(slots.size());
  for (size_t k = 0; k < slots.size(); ++k) {
    const OptimizerSlot& slot = slots[k];
    check_slot(slot, k, hyper.rule, device);
    grads.push_back(contiguous(slot.grad.detach()));
    table.push_back({slot.param.data<float>(), grads.back().data<float>(),
                     slot.state0.data<float>(),
                     hyper.rule == OptimizerRule::adamw ? slot.state1.data<float>() : nullptr,
                     slot.param.numel(), slot.decay});
  }
  SIMCLR_DISPATCH(device, optimizer_step, optimizer_scalars(hyper), table.data(),
                  static_cast<int64_t>(table.size()), current_stream(device));
}

}  // namespace simclr
