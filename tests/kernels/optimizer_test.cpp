// CPU tests of the fused optimizer update (kernels/optimizer.h): LARS, SGD and AdamW (with and
// without Nesterov) over tensors of odd sizes with mixed decay flags, three steps against the
// double reference of tests/optimizer_reference.h from random non-zero states; LARS's trust ratio
// of 1 at a zero weight or a zero gradient and for excluded tensors; strided gradients; empty
// tensors; and the argument checks.
#include <catch2/catch.hpp>

#include <limits>
#include <string>
#include <vector>

#include "kernels/ops.h"
#include "kernels/optimizer.h"
#include "optimizer_reference.h"
#include "test_util.h"

namespace {

using namespace simclr;
using test::Case;
using test::cases;
using test::RefParam;

const std::vector<int64_t> kSizes{1, 7, 1000, 4099, 33};

Tensor f64_of(const std::vector<double>& x, const Shape& shape) {
  return from_vector(x, shape);
}

// A slot with random weights, gradient and states (exp_avg_sq non-negative), and its reference.
OptimizerSlot random_slot(const Shape& shape, bool decay, uint64_t seed, RefParam& ref) {
  OptimizerSlot s{test::random_tensor(shape, DType::f32, seed),
                  test::random_tensor(shape, DType::f32, seed + 1),
                  test::random_tensor(shape, DType::f32, seed + 2, -0.1, 0.1),
                  test::random_tensor(shape, DType::f32, seed + 3, 0.0, 0.1), decay};
  ref = {test::values(s.param), test::values(s.grad), test::values(s.state0),
         test::values(s.state1), decay};
  return s;
}

void require_matches(const OptimizerSlot& s, const RefParam& ref, OptimizerRule rule) {
  const test::Tolerance tol{1e-5, 1e-6};
  SIMCLR_REQUIRE_CLOSE(s.param, f64_of(ref.w, s.param.shape()), tol);
  SIMCLR_REQUIRE_CLOSE(s.state0, f64_of(ref.s0, s.param.shape()), tol);
  if (rule == OptimizerRule::adamw)
    SIMCLR_REQUIRE_CLOSE(s.state1, f64_of(ref.s1, s.param.shape()), tol);
}

}  // namespace

TEST_CASE("optimizer_step matches the double reference over three steps", "[optimizer]") {
  for (const Case& c : cases()) {
    INFO(c.name);
    std::vector<OptimizerSlot> slots;
    std::vector<RefParam> refs(kSizes.size());
    for (size_t k = 0; k < kSizes.size(); ++k)
      slots.push_back(random_slot({kSizes[k]}, k % 2 == 0, 100 + 10 * k, refs[k]));
    OptimizerHyper h = c.hyper;
    for (int step = 0; step < 3; ++step) {
      h.step = 5 + step;  // mid-run: the states are not zero
      for (size_t k = 0; k < slots.size(); ++k) {
        slots[k].grad = test::random_tensor({kSizes[k]}, DType::f32, 900 + 10 * step + k);
        refs[k].g = test::values(slots[k].grad);
        test::reference_step(h, refs[k]);
      }
      optimizer_step(h, slots);
      for (size_t k = 0; k < slots.size(); ++k) {
        INFO("step " << step << ", tensor of " << kSizes[k]);
        require_matches(slots[k], refs[k], h.rule);
      }
    }
  }
}

TEST_CASE("optimizer_step LARS: trust ratio 1 at a zero norm and for excluded tensors",
          "[optimizer]") {
  OptimizerHyper h;
  h.lr = 0.3;
  h.weight_decay = 0.1;
  const double m = h.momentum;
  RefParam unused;
  // A zero weight: the decayed gradient is g itself and ||w|| = 0.
  OptimizerSlot zero_w = random_slot({9}, true, 1, unused);
  fill_(zero_w.param, 0.0);
  // A zero gradient without weight decay: ||g|| = 0.
  OptimizerSlot zero_g = random_slot({6}, true, 2, unused);
  fill_(zero_g.grad, 0.0);
  // An excluded tensor: no decay, no adaptation.
  OptimizerSlot excluded = random_slot({11}, false, 3, unused);
  const std::vector<OptimizerSlot> slots{zero_w, zero_g, excluded};
  std::vector<std::vector<double>> w0, g0, v0;
  for (const OptimizerSlot& s : slots) {
    w0.push_back(test::values(s.param));
    g0.push_back(test::values(s.grad));
    v0.push_back(test::values(s.state0));
  }
  optimizer_step(h, {zero_w, excluded});
  h.weight_decay = 0.0;
  optimizer_step(h, {zero_g});
  for (size_t k = 0; k < slots.size(); ++k) {
    INFO("slot " << k);
    std::vector<double> v(v0[k].size()), w(v0[k].size());
    for (size_t i = 0; i < v.size(); ++i) {
      v[i] = m * v0[k][i] + 0.3 * g0[k][i];  // lr * 1 * g: w is 0 or the tensor is excluded
      w[i] = w0[k][i] - v[i];
    }
    const test::Tolerance tol{1e-6, 1e-7};
    SIMCLR_REQUIRE_CLOSE(slots[k].state0, f64_of(v, slots[k].param.shape()), tol);
    SIMCLR_REQUIRE_CLOSE(slots[k].param, f64_of(w, slots[k].param.shape()), tol);
  }
}

TEST_CASE("optimizer_step reads strided gradients and skips empty tensors", "[optimizer]") {
  for (const Case& c : cases()) {
    INFO(c.name);
    RefParam ref, empty_ref;
    OptimizerSlot s = random_slot({3, 5}, true, 40, ref);
    s.grad = transpose(test::random_tensor({5, 3}, DType::f32, 41), 0, 1);
    REQUIRE(!s.grad.is_contiguous());
    ref.g = test::values(s.grad);
    OptimizerSlot empty = random_slot({0}, true, 42, empty_ref);
    OptimizerHyper h = c.hyper;
    h.step = 3;  // mid-run: the states are not zero
    test::reference_step(h, ref);
    optimizer_step(h, {empty, s});
    require_matches(s, ref, h.rule);
  }
}

TEST_CASE("optimizer_step checks its arguments", "[optimizer]") {
  RefParam unused;
  const OptimizerSlot good = random_slot({4}, true, 7, unused);
  OptimizerHyper lars;
  lars.lr = 0.1;
  OptimizerHyper adamw = lars;
  adamw.rule = OptimizerRule::adamw;
  const auto fails = [](const OptimizerHyper& h, OptimizerSlot s, const char* what) {
    REQUIRE_THROWS_WITH(optimizer_step(h, {s}), Catch::Contains(what));
  };
  OptimizerSlot s = good;
  s.grad = test::random_tensor({5}, DType::f32, 8);
  fails(lars, s, "gradient of slot 0");
  s = good;
  s.state0 = test::random_tensor({2, 2}, DType::f32, 9);
  fails(lars, s, "the momentum of slot 0");
  s = good;
  s.state1 = Tensor();
  fails(adamw, s, "exp_avg_sq of slot 0");
  s = good;
  s.param = test::random_tensor({4}, DType::f64, 10);
  fails(lars, s, "parameter of slot 0");
  OptimizerHyper h = lars;
  h.lr = -1;
  fails(h, good, "learning rate");
  h = lars;
  h.lr = std::numeric_limits<double>::quiet_NaN();
  fails(h, good, "learning rate");
  h = lars;
  h.momentum = 0;
  h.nesterov = true;
  fails(h, good, "Nesterov");
  h = lars;
  h.trust_coefficient = 0;
  fails(h, good, "trust coefficient");
  h = adamw;
  h.beta2 = 1;
  fails(h, good, "betas");
  h = adamw;
  h.step = 0;
  fails(h, good, "step number");
  REQUIRE_NOTHROW(optimizer_step(lars, {}));
}
