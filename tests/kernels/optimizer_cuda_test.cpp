// [cuda] tests of the fused optimizer update: the CUDA kernels against the CPU reference on the
// same random inputs, for LARS, SGD and AdamW (with and without Nesterov), over one list of tensors
// of sizes 1, 7, 1000, 4099, 8192, 8193 and 100003 (one chunk, a chunk and one element, many
// chunks) with mixed decay flags and an empty tensor, three steps each. Every tensor sits inside a
// buffer padded with NaN on both sides (so misaligned, and any stray write shows); a list longer
// than one launch's table; and bit-identical results from run to run.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "cuda_test_util.h"
#include "kernels/optimizer.h"
#include "optimizer_reference.h"

namespace {

using namespace simclr;
using test::Case;
using test::cases;
using test::kCpu;
using test::kCuda;

constexpr int64_t kPad = 3;
const std::vector<int64_t> kSizes{1, 7, 1000, 0, 4099, 8192, 8193, 100003};

// A tensor on `device` with src's values, inside a buffer that holds kPad NaNs on each side.
struct Padded {
  Tensor buffer, view;

  Padded(const Tensor& src, Device device) {
    buffer = full({src.numel() + 2 * kPad}, std::numeric_limits<double>::quiet_NaN(), DType::f32,
                  device);
    view = reshape(slice(buffer, 0, kPad, kPad + src.numel()), src.shape());
    copy_(view, src);
  }

  void require_sentinels() const {
    const std::vector<double> v = test::values(buffer);
    for (int64_t i = 0; i < kPad; ++i) {
      INFO("padding element " << i << " of " << buffer.str());
      REQUIRE(std::isnan(v[i]));
      REQUIRE(std::isnan(v[v.size() - 1 - i]));
    }
  }
};

// The slots of one backend; the host tensors they were copied from are shared by both backends.
struct Run {
  std::vector<Padded> buffers;  // param, state0, state1 of each slot
  std::vector<OptimizerSlot> slots;

  Run(const std::vector<OptimizerSlot>& host, Device device) {
    buffers.reserve(3 * host.size());
    for (const OptimizerSlot& h : host) {
      OptimizerSlot s;
      for (const Tensor* t : {&h.param, &h.state0, &h.state1}) buffers.emplace_back(*t, device);
      s.param = buffers[buffers.size() - 3].view;
      s.state0 = buffers[buffers.size() - 2].view;
      s.state1 = buffers[buffers.size() - 1].view;
      s.decay = h.decay;
      slots.push_back(s);
    }
  }

  void step(const OptimizerHyper& h, const std::vector<Tensor>& grads) {
    for (size_t k = 0; k < slots.size(); ++k)
      slots[k].grad = Padded(grads[k], slots[k].param.device()).view;
    optimizer_step(h, slots);
  }

  void require_sentinels() const {
    for (const Padded& p : buffers) p.require_sentinels();
  }
};

std::vector<OptimizerSlot> host_slots(const std::vector<int64_t>& sizes, uint64_t seed) {
  std::vector<OptimizerSlot> host;
  for (size_t k = 0; k < sizes.size(); ++k) {
    const Shape shape{sizes[k]};
    const uint64_t s = seed + 10 * k;
    host.push_back({test::random_tensor(shape, DType::f32, s), Tensor(),
                    test::random_tensor(shape, DType::f32, s + 1, -0.1, 0.1),
                    test::random_tensor(shape, DType::f32, s + 2, 0.0, 0.1), k % 3 != 1});
  }
  return host;
}

std::vector<Tensor> host_grads(const std::vector<int64_t>& sizes, uint64_t seed) {
  std::vector<Tensor> grads;
  for (size_t k = 0; k < sizes.size(); ++k)
    grads.push_back(test::random_tensor({sizes[k]}, DType::f32, seed + k));
  return grads;
}

void require_close(const Run& cuda, const Run& cpu, OptimizerRule rule) {
  for (size_t k = 0; k < cpu.slots.size(); ++k) {
    INFO("tensor " << k << ": " << cpu.slots[k].param.str());
    const test::Tolerance tol{1e-5, 1e-6};
    SIMCLR_REQUIRE_CLOSE(cuda.slots[k].param, cpu.slots[k].param, tol);
    SIMCLR_REQUIRE_CLOSE(cuda.slots[k].state0, cpu.slots[k].state0, tol);
    if (rule == OptimizerRule::adamw)
      SIMCLR_REQUIRE_CLOSE(cuda.slots[k].state1, cpu.slots[k].state1, tol);
  }
}

}  // namespace

TEST_CASE("optimizer_step on CUDA matches the CPU over three steps", "[cuda][optimizer]") {
  for (const Case& c : cases()) {
    INFO(c.name);
    const std::vector<OptimizerSlot> host = host_slots(kSizes, 11);
    Run cpu(host, kCpu), cuda(host, kCuda);
    OptimizerHyper h = c.hyper;
    for (int step = 0; step < 3; ++step) {
      INFO("step " << step);
      h.step = 5 + step;
      const std::vector<Tensor> grads = host_grads(kSizes, 500 + 20 * step);
      cpu.step(h, grads);
      cuda.step(h, grads);
      require_close(cuda, cpu, h.rule);
      cuda.require_sentinels();
    }
  }
}

TEST_CASE("optimizer_step on CUDA splits a long list over launches", "[cuda][optimizer]") {
  std::vector<int64_t> sizes;
  for (int64_t k = 0; k < 1100; ++k) sizes.push_back(1 + (k * 37) % 301);
  for (const Case& c : cases()) {
    INFO(c.name);
    const std::vector<OptimizerSlot> host = host_slots(sizes, 77);
    Run cpu(host, kCpu), cuda(host, kCuda);
    const std::vector<Tensor> grads = host_grads(sizes, 3000);
    cpu.step(c.hyper, grads);
    cuda.step(c.hyper, grads);
    require_close(cuda, cpu, c.hyper.rule);
    cuda.require_sentinels();
  }
}

TEST_CASE("optimizer_step on CUDA is bit-identical from run to run", "[cuda][optimizer]") {
  for (const Case& c : cases()) {
    INFO(c.name);
    const std::vector<OptimizerSlot> host = host_slots(kSizes, 31);
    const std::vector<Tensor> grads = host_grads(kSizes, 700);
    Run first(host, kCuda), second(host, kCuda);
    first.step(c.hyper, grads);
    second.step(c.hyper, grads);
    for (size_t k = 0; k < host.size(); ++k) {
      test::require_same_bytes(first.slots[k].param, second.slots[k].param);
      test::require_same_bytes(first.slots[k].state0, second.slots[k].state0);
    }
  }
}
