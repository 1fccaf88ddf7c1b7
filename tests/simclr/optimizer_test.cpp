// Tests of the optimizers (simclr/optimizer.h) on a small module of three tensors, one of them an
// excluded bias: LARS against a hand-computed update over two steps; SGD (with and without
// Nesterov) and AdamW against PyTorch's closed-form updates over three steps; the exclusion flags;
// parameters without a gradient; the named state and a resume from it; the config checks.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "kernels/ops.h"
#include "optimizer_reference.h"
#include "simclr/optimizer.h"
#include "test_util.h"

namespace {

using namespace simclr;
using test::RefParam;

// weight [1, 2] and scale [3] take weight decay; bias [2] does not (as a real bias or BN
// parameter).
class Tiny : public Module {
 public:
  explicit Tiny(uint64_t seed) {
    weight = register_parameter("weight", from_vector<float>({3, 4}, {1, 2}));
    bias = register_parameter("bias", from_vector<float>({1, -2}, {2}), false);
    scale = register_parameter("scale", test::random_tensor({3}, DType::f32, seed));
  }
  Tensor forward(const Tensor& x) override { return x; }
  std::string name() const override { return "Tiny"; }

  Parameter *weight, *bias, *scale;
};

std::vector<Tensor> random_grads(Tiny& m, uint64_t seed) {
  std::vector<Tensor> grads;
  for (const auto& [name, p] : m.named_parameters()) {
    grads.push_back(test::random_tensor(p->value.shape(), DType::f32, seed++));
    p->value.set_grad(grads.back());
  }
  return grads;
}

std::vector<RefParam> refs_of(Tiny& m, bool exclude) {
  std::vector<RefParam> refs;
  for (const auto& [name, p] : m.named_parameters()) {
    const size_t n = static_cast<size_t>(p->value.numel());
    refs.push_back({test::values(p->value),
                    {},
                    std::vector<double>(n),
                    std::vector<double>(n),
                    !exclude || p->weight_decay});
  }
  return refs;
}

void require_params(Tiny& m, const std::vector<RefParam>& refs) {
  const auto params = m.named_parameters();
  for (size_t k = 0; k < params.size(); ++k) {
    INFO(params[k].first);
    const Tensor& v = params[k].second->value;
    const test::Tolerance tol{1e-5, 1e-7};
    SIMCLR_REQUIRE_CLOSE(v, from_vector(refs[k].w, v.shape()), tol);
  }
}

// Runs `steps` steps of `config` on a fresh Tiny with lr 0.1 / (s + 1) against the reference.
void check_against_reference(const OptimizerConfig& config, OptimizerRule rule, int steps) {
  Tiny m(5);
  auto opt = make_optimizer(config, m.named_parameters());
  std::vector<RefParam> refs = refs_of(m, config.exclude_bias_and_bn);
  OptimizerHyper h;
  h.rule = rule;
  h.momentum = config.momentum;
  h.weight_decay = config.weight_decay;
  h.trust_coefficient = config.trust_coefficient;
  h.nesterov = config.nesterov;
  h.beta1 = config.beta1;
  h.beta2 = config.beta2;
  h.eps = config.eps;
  for (int s = 0; s < steps; ++s) {
    INFO("step " << s);
    h.lr = 0.1 / (s + 1);
    h.step = s + 1;
    const std::vector<Tensor> grads = random_grads(m, 100 + 10 * s);
    for (size_t k = 0; k < refs.size(); ++k) {
      refs[k].g = test::values(grads[k]);
      test::reference_step(h, refs[k]);
    }
    opt->step(h.lr);
    REQUIRE(opt->steps() == s + 1);
    require_params(m, refs);
  }
}

}  // namespace

TEST_CASE("LARS: one and two steps match a hand-computed update", "[simclr][optimizer]") {
  Tiny m(1);
  OptimizerConfig config;  // lars, momentum 0.9, eta 0.001
  config.weight_decay = 0.01;
  auto opt = make_optimizer(config, m.named_parameters());
  std::vector<RefParam> scale_ref = refs_of(m, true);
  const std::vector<float> g_weight{0.6f, 0.8f}, g_bias{0.5f, 0.25f};
  const auto set_grads = [&](uint64_t seed) {
    m.weight->value.set_grad(from_vector(g_weight, {1, 2}));
    m.bias->value.set_grad(from_vector(g_bias, {2}));
    m.scale->value.set_grad(test::random_tensor({3}, DType::f32, seed));
    scale_ref[2].g = test::values(m.scale->value.grad());
  };
  OptimizerHyper h;
  h.weight_decay = 0.01;
  h.lr = 2.1;

  // Step 1, weight w = [3, 4] (norm 5): g' = g + 0.01 w = [0.63, 0.84] (norm 1.05), trust =
  // 0.001 * 5 / 1.05, so lr * trust = 0.01; v = 0.01 g' = [0.0063, 0.0084]; w = [2.9937, 3.9916].
  // Bias (excluded): v = 2.1 [0.5, 0.25] = [1.05, 0.525]; b = [1, -2] - v = [-0.05, -2.525].
  set_grads(7);
  test::reference_step(h, scale_ref[2]);
  opt->step(2.1);
  const test::Tolerance tol{1e-6, 1e-7};
  SIMCLR_REQUIRE_CLOSE(m.weight->value, from_vector<double>({2.9937, 3.9916}, {1, 2}), tol);
  SIMCLR_REQUIRE_CLOSE(m.bias->value, from_vector<double>({-0.05, -2.525}, {2}), tol);
  SIMCLR_REQUIRE_CLOSE(m.scale->value, from_vector(scale_ref[2].w, {3}), tol);

  // Step 2: w = 0.9979 [3, 4] (norm 4.9895); g' = g + 0.01 w = 1.049895 [0.6, 0.8], so
  // lr * trust * g' = 2.1 * 0.001 * 4.9895 [0.6, 0.8] = [0.00628677, 0.00838236];
  // v = 0.9 [0.0063, 0.0084] + that = [0.01195677, 0.01594236]; w = [2.98174323, 3.97565764].
  // Bias: v = 0.9 [1.05, 0.525] + 2.1 [0.5, 0.25] = [1.995, 0.9975]; b = [-2.045, -3.5225].
  set_grads(8);
  h.step = 2;
  test::reference_step(h, scale_ref[2]);
  opt->step(2.1);
  SIMCLR_REQUIRE_CLOSE(m.weight->value, from_vector<double>({2.98174323, 3.97565764}, {1, 2}), tol);
  SIMCLR_REQUIRE_CLOSE(m.bias->value, from_vector<double>({-2.045, -3.5225}, {2}), tol);
  SIMCLR_REQUIRE_CLOSE(m.scale->value, from_vector(scale_ref[2].w, {3}), tol);
  const auto state = opt->state();
  REQUIRE(state[1].first == "momentum.weight");
  SIMCLR_REQUIRE_CLOSE(state[1].second, from_vector<double>({0.01195677, 0.01594236}, {1, 2}), tol);
}

TEST_CASE("LARS, SGD and AdamW match PyTorch's formulas over three steps", "[simclr][optimizer]") {
  for (const bool exclude : {true, false}) {
    INFO("exclude_bias_and_bn " << exclude);
    OptimizerConfig lars;
    lars.weight_decay = 0.01;
    lars.exclude_bias_and_bn = exclude;
    check_against_reference(lars, OptimizerRule::lars, 3);
    OptimizerConfig sgd = lars;
    sgd.name = "sgd";
    check_against_reference(sgd, OptimizerRule::sgd, 3);
    sgd.nesterov = true;
    check_against_reference(sgd, OptimizerRule::sgd, 3);
    OptimizerConfig adamw = lars;
    adamw.name = "adamw";
    adamw.weight_decay = 0.1;
    check_against_reference(adamw, OptimizerRule::adamw, 3);
  }
}

TEST_CASE("SGD: excluded parameters take no weight decay", "[simclr][optimizer]") {
  Tiny m(2);
  OptimizerConfig config;
  config.name = "sgd";
  config.momentum = 0.0;
  config.weight_decay = 0.5;
  auto opt = make_optimizer(config, m.named_parameters());
  const std::vector<double> w0 = test::values(m.weight->value), b0 = test::values(m.bias->value);
  const std::vector<Tensor> g = random_grads(m, 9);
  const std::vector<double> gw = test::values(g[0]), gb = test::values(g[1]);
  opt->step(0.1);
  std::vector<double> w(2), b(2);
  for (size_t i = 0; i < 2; ++i) {
    w[i] = w0[i] - 0.1 * (gw[i] + 0.5 * w0[i]);
    b[i] = b0[i] - 0.1 * gb[i];
  }
  const test::Tolerance tol{1e-6, 1e-7};
  SIMCLR_REQUIRE_CLOSE(m.weight->value, from_vector(w, {1, 2}), tol);
  SIMCLR_REQUIRE_CLOSE(m.bias->value, from_vector(b, {2}), tol);
}

TEST_CASE("Optimizers skip parameters without a gradient", "[simclr][optimizer]") {
  for (const char* name : {"lars", "sgd", "adamw"}) {
    INFO(name);
    Tiny m(3);
    OptimizerConfig config;
    config.name = name;
    auto opt = make_optimizer(config, m.named_parameters());
    random_grads(m, 20);
    m.scale->value.set_grad(Tensor());
    const std::vector<double> before = test::values(m.scale->value);
    const std::vector<double> weight_before = test::values(m.weight->value);
    opt->step(0.5);
    REQUIRE(test::values(m.scale->value) == before);
    REQUIRE(test::values(m.weight->value) != weight_before);
    for (const auto& [key, t] : opt->state()) {
      if (key.find("scale") == std::string::npos) continue;
      INFO(key);
      REQUIRE(test::values(t) == std::vector<double>(3, 0.0));
    }
  }
}

TEST_CASE("Optimizer state is named, and a resume from it continues the same run",
          "[simclr][optimizer]") {
  for (const char* name : {"lars", "sgd", "adamw"}) {
    INFO(name);
    Tiny a(4), b(4);
    OptimizerConfig config;
    config.name = name;
    auto opt_a = make_optimizer(config, a.named_parameters());
    std::vector<std::string> keys;
    for (const auto& [key, t] : opt_a->state()) keys.push_back(key);
    const bool adam = std::string(name) == "adamw";
    const std::vector<std::string> want =
        adam ? std::vector<std::string>{"optimizer.step",  "exp_avg.weight",  "exp_avg_sq.weight",
                                        "exp_avg.bias",    "exp_avg_sq.bias", "exp_avg.scale",
                                        "exp_avg_sq.scale"}
             : std::vector<std::string>{"optimizer.step", "momentum.weight", "momentum.bias",
                                        "momentum.scale"};
    REQUIRE(keys == want);
    REQUIRE(opt_a->state()[0].second.dtype() == DType::i64);

    for (int s = 0; s < 2; ++s) {
      random_grads(a, 40 + 10 * s);
      opt_a->step(0.2);
    }
    // Resume: b takes a's parameters and optimizer state (as a checkpoint would), then both step.
    auto opt_b = make_optimizer(config, b.named_parameters());
    {
      NoGradGuard no_grad;
      for (size_t k = 0; k < 3; ++k)
        copy_(b.named_parameters()[k].second->value, a.named_parameters()[k].second->value);
      const auto from = opt_a->state();
      auto into = opt_b->state();
      for (size_t k = 0; k < from.size(); ++k) copy_(into[k].second, clone(from[k].second));
    }
    REQUIRE(opt_b->steps() == 2);
    random_grads(a, 90);
    random_grads(b, 90);
    opt_a->step(0.2);
    opt_b->step(0.2);
    for (size_t k = 0; k < 3; ++k)
      REQUIRE(test::values(a.named_parameters()[k].second->value) ==
              test::values(b.named_parameters()[k].second->value));
    opt_b->set_steps(7);
    REQUIRE(opt_b->steps() == 7);
    REQUIRE(item(opt_b->state()[0].second) == 7.0);
  }
}

TEST_CASE("make_optimizer checks the config and the parameters", "[simclr][optimizer]") {
  Tiny m(6);
  const auto params = m.named_parameters();
  const auto fails = [&](const OptimizerConfig& c, const char* what) {
    REQUIRE_THROWS_WITH(make_optimizer(c, params), Catch::Contains(what));
  };
  OptimizerConfig c;
  c.name = "adam";
  fails(c, "unknown name 'adam'");
  c = {};
  c.weight_decay = -1e-6;
  fails(c, "weight_decay");
  c = {};
  c.momentum = -0.5;
  fails(c, "momentum");
  c = {};
  c.trust_coefficient = 0;
  fails(c, "trust_coefficient");
  c = {};
  c.name = "sgd";
  c.momentum = 0;
  c.nesterov = true;
  fails(c, "nesterov");
  c = {};
  c.name = "adamw";
  c.beta1 = 1.0;
  fails(c, "beta1");
  c = {};
  c.name = "adamw";
  c.eps = -1;
  fails(c, "eps");

  auto twice = params;
  twice.push_back(params[0]);
  REQUIRE_THROWS_WITH(make_optimizer({}, twice), Catch::Contains("appears twice"));
  twice.back().first = "alias";
  REQUIRE_THROWS_WITH(make_optimizer({}, twice), Catch::Contains("updated twice"));
  Parameter f64;
  f64.value = test::random_tensor({2}, DType::f64, 1);
  REQUIRE_THROWS_WITH(make_optimizer({}, {{"x", &f64}}), Catch::Contains("in f32"));
  REQUIRE_THROWS_WITH(make_optimizer({}, {{"x", nullptr}}), Catch::Contains("'x' is null"));
  auto opt = make_optimizer({}, params);
  REQUIRE_THROWS_WITH(opt->step(-0.1), Catch::Contains("learning rate"));
  REQUIRE_THROWS_WITH(opt->set_steps(-1), Catch::Contains("step count"));
}
