// The fused optimizer update over a ResNet-50's parameter list without the fc (159 tensors, 23.5M
// fp32 values), LARS, SGD and AdamW, in GB/s of the bytes the update must move per element: LARS
// reads w and g for the norms, then reads w, g, v and writes w, v (7 x 4 bytes); SGD reads w, g, v
// and writes w, v (5 x 4); AdamW reads w, g, m, v and writes w, m, v (7 x 4).
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kernels/optimizer.h"
#include "layers/resnet.h"

namespace {

using simclr::Device;
using simclr::DType;
using simclr::OptimizerRule;
using simclr::Tensor;

void optimizer_bench(benchmark::State& state, Device device, DType) {
  const auto rule = static_cast<OptimizerRule>(state.range(0));
  simclr::ResNetConfig config;
  config.depth = 50;
  simclr::ResNet model(config);
  model.to(device);
  std::vector<simclr::OptimizerSlot> slots;
  int64_t elements = 0;
  uint64_t seed = 1;
  for (const auto& [name, p] : model.named_parameters()) {
    const Tensor& w = p->value;
    slots.push_back(
        {w, simclr::bench::input(w.shape(), DType::f32, device, seed++), simclr::zeros_like(w),
         rule == OptimizerRule::adamw ? simclr::zeros_like(w) : Tensor(), p->weight_decay});
    elements += w.numel();
  }
  simclr::OptimizerHyper hyper;
  hyper.rule = rule;
  hyper.lr = 1e-3;
  simclr::bench::run(state, device, [&] { simclr::optimizer_step(hyper, slots); });
  const double bytes_per_element = rule == OptimizerRule::sgd ? 20.0 : 28.0;
  state.SetBytesProcessed(static_cast<int64_t>(bytes_per_element * static_cast<double>(elements)) *
                          state.iterations());
  state.SetLabel(std::to_string(slots.size()) + " tensors, " + std::to_string(elements) +
                 " values");
}

// The argument is the rule: 0 LARS, 1 SGD, 2 AdamW.
const bool registered =
    (simclr::bench::register_each("optimizer_step", {DType::f32}, {{0}, {1}, {2}}, optimizer_bench),
     true);

}  // namespace
