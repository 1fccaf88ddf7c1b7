// The optimizers of SimCLR training: LARS (the paper's, as its lars_optimizer.py), SGD with
// momentum and AdamW (as PyTorch's), over a model's named parameters. All three run on the fused
// multi-tensor update of kernels/optimizer.h, on the parameters' device; the exact rules are
// stated there. Biases and BN parameters (Parameter::weight_decay == false) take neither weight
// decay nor LARS's trust ratio unless exclude_bias_and_bn is false.
//
// State lives in tensors created at construction (zeros), named for checkpoints: "momentum.<name>"
// (LARS, SGD), "exp_avg.<name>" and "exp_avg_sq.<name>" (AdamW), and "optimizer.step", the number
// of steps taken (an int64 [1] CPU tensor). AdamW's bias corrections count the optimizer's steps,
// so a parameter that skips steps (no gradient) is corrected as if it had not.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "layers/module.h"

namespace simclr {

struct OptimizerConfig {
  std::string name = "lars";  // "lars" | "sgd" | "adamw"
  double momentum = 0.9, weight_decay = 1e-6, trust_coefficient = 0.001;
  bool nesterov = false;  // LARS and SGD
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  bool exclude_bias_and_bn = true;  // false: every parameter decays (and adapts, for LARS)
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Applies one update with learning rate lr to every parameter that has a gradient
  // (param.value.grad()), in place; under NoGradGuard internally.
  virtual void step(double lr) = 0;
  int64_t steps() const;
  void set_steps(int64_t steps);
  // Named state tensors for checkpoints: save reads them, load copies into them (copy_), so the
  // tensors stay the ones the optimizer updates. The set of names is fixed at construction.
  virtual std::vector<std::pair<std::string, Tensor>> state();

 protected:
  Optimizer();
  // Per-parameter state ("<kind>.<param name>"), filled by the subclass at construction.
  std::vector<std::pair<std::string, Tensor>> named_state_;

 private:
  Tensor steps_;  // int64 [1] on the CPU
};

// Checks the config (a clear error for an unknown name or an out-of-range value) and the
// parameters (f32, all on one device, unique names).
std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config,
                                          std::vector<std::pair<std::string, Parameter*>> params);

}  // namespace simclr
