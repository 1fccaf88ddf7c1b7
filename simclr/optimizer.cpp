// The optimizers (simclr/optimizer.h): config checks, state tensors named for checkpoints, and one
// fused kernels/optimizer.h update per step over the parameters that have a gradient.
#include "simclr/optimizer.h"

#include <cmath>
#include <set>

#include "kernels/ops.h"
#include "kernels/optimizer.h"

namespace simclr {

namespace {

OptimizerRule rule_of(const std::string& name) {
  if (name == "lars") return OptimizerRule::lars;
  if (name == "sgd") return OptimizerRule::sgd;
  if (name == "adamw") return OptimizerRule::adamw;
  SIMCLR_THROW("optimizer: unknown name '", name, "'; expected lars, sgd or adamw");
}

void check_config(const OptimizerConfig& c, OptimizerRule rule) {
  const char* name = c.name.c_str();
  SIMCLR_CHECK(std::isfinite(c.weight_decay) && c.weight_decay >= 0, "optimizer ", name,
               ": expected weight_decay >= 0, got ", c.weight_decay);
  if (rule == OptimizerRule::adamw) {
    SIMCLR_CHECK(c.beta1 >= 0 && c.beta1 < 1 && c.beta2 >= 0 && c.beta2 < 1,
                 "optimizer adamw: expected beta1 and beta2 in [0, 1), got ", c.beta1, " and ",
                 c.beta2);
    SIMCLR_CHECK(c.eps > 0, "optimizer adamw: expected eps > 0, got ", c.eps);
    SIMCLR_CHECK(!c.nesterov, "optimizer adamw: nesterov applies to lars and sgd only");
    return;
  }
  SIMCLR_CHECK(c.momentum >= 0 && c.momentum < 1, "optimizer ", name,
               ": expected momentum in [0, 1), got ", c.momentum);
  SIMCLR_CHECK(!c.nesterov || c.momentum > 0, "optimizer ", name,
               ": nesterov needs momentum > 0, got ", c.momentum);
  SIMCLR_CHECK(rule != OptimizerRule::lars || c.trust_coefficient > 0,
               "optimizer lars: expected trust_coefficient > 0, got ", c.trust_coefficient);
}

void check_params(const std::vector<std::pair<std::string, Parameter*>>& params) {
  std::set<std::string> names;
  std::set<const Parameter*> seen;
  for (const auto& [name, p] : params) {
    SIMCLR_CHECK(p != nullptr && p->value.defined(), "optimizer: parameter '", name,
                 "' is null or undefined");
    SIMCLR_CHECK(p->value.dtype() == DType::f32, "optimizer: expected parameter '", name,
                 "' in f32 (master weights), got ", p->value.str());
    SIMCLR_CHECK(p->value.device() == params[0].second->value.device(),
                 "optimizer: expected every parameter on one device; '", params[0].first,
                 "' is on ", params[0].second->value.device().str(), ", '", name, "' on ",
                 p->value.device().str());
    SIMCLR_CHECK(names.insert(name).second, "optimizer: parameter name '", name, "' appears twice");
    SIMCLR_CHECK(seen.insert(p).second, "optimizer: parameter '", name,
                 "' is the same Parameter as an earlier one (it would be updated twice)");
  }
}

class FusedOptimizer : public Optimizer {
 public:
  FusedOptimizer(const OptimizerConfig& config, OptimizerRule rule,
                 std::vector<std::pair<std::string, Parameter*>> params)
      : config_(config), rule_(rule), params_(std::move(params)) {
    const bool adam = rule == OptimizerRule::adamw;
    for (const auto& [name, p] : params_) {
      named_state_.emplace_back((adam ? "exp_avg." : "momentum.") + name, zeros_like(p->value));
      if (adam) named_state_.emplace_back("exp_avg_sq." + name, zeros_like(p->value));
    }
  }

  void step(double lr) override {
    NoGradGuard no_grad;
    const size_t per_param = rule_ == OptimizerRule::adamw ? 2 : 1;
    std::vector<OptimizerSlot> slots;
    for (size_t k = 0; k < params_.size(); ++k) {
      const auto& [name, p] = params_[k];
      if (!p->value.grad().defined()) continue;
      const Tensor& state0 = named_state_[k * per_param].second;
      SIMCLR_CHECK(state0.device() == p->value.device() && state0.shape() == p->value.shape(),
                   "optimizer: parameter '", name, "' is now ", p->value.str(),
                   " but its state was created as ", state0.str(),
                   "; create the optimizer after moving the model");
      slots.push_back({p->value, p->value.grad(), state0,
                       per_param == 2 ? named_state_[k * 2 + 1].second : Tensor(),
                       !config_.exclude_bias_and_bn || p->weight_decay});
    }
    optimizer_step(hyper(lr), slots);
    set_steps(steps() + 1);
  }

 private:
  OptimizerHyper hyper(double lr) const {
    OptimizerHyper h;
    h.rule = rule_;
    h.lr = lr;
    h.momentum = config_.momentum;
    h.weight_decay = config_.weight_decay;
    h.trust_coefficient = config_.trust_coefficient;
    h.nesterov = config_.nesterov;
    h.beta1 = config_.beta1;
    h.beta2 = config_.beta2;
    h.eps = config_.eps;
    h.step = steps() + 1;
    return h;
  }

  OptimizerConfig config_;
  OptimizerRule rule_;
  std::vector<std::pair<std::string, Parameter*>> params_;
};

}  // namespace

Optimizer::Optimizer() : steps_(zeros({1}, DType::i64)) {}

int64_t Optimizer::steps() const {
  return steps_.data<int64_t>()[0];
}

void Optimizer::set_steps(int64_t steps) {
  SIMCLR_CHECK(steps >= 0, "optimizer: expected a step count >= 0, got ", steps);
  steps_.data<int64_t>()[0] = steps;
}

std::vector<std::pair<std::string, Tensor>> Optimizer::state() {
  std::vector<std::pair<std::string, Tensor>> out{{"optimizer.step", steps_}};
  out.insert(out.end(), named_state_.begin(), named_state_.end());
  return out;
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerConfig& config,
                                          std::vector<std::pair<std::string, Parameter*>> params) {
  const OptimizerRule rule = rule_of(config.name);
  check_config(config, rule);
  check_params(params);
  return std::make_unique<FusedOptimizer>(config, rule, std::move(params));
}

}  // namespace simclr
