// The fused SimCLR augmentation (kernels/augment.h): a batch of uint8 HWC images -> two views each,
// normalized, NHWC. Reports items_per_second in views (2 per image) and bytes_per_second of the
// bytes it must move: the uint8 source read once plus the views written (on CUDA, the 224 px
// views' workspace traffic of the blur pass and the contrast pre-pass not counted; 32 and 64 px
// views take the one-pass shared-memory kernel, which has none). Args: batch, source side, output
// side, blur.
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kernels/augment.h"

namespace {

using simclr::Device;
using simclr::DType;

void augment_bench(benchmark::State& state, Device device, DType dtype) {
  const int64_t n = state.range(0), side = state.range(1);
  simclr::AugmentPolicy policy;
  policy.out_h = policy.out_w = static_cast<int32_t>(state.range(2));
  policy.blur = state.range(3) != 0;
  const simclr::Tensor images = simclr::to(
      simclr::add(
          simclr::mul(simclr::bench::input({n, side, side, 3}, DType::f32, device, 1), 127.0),
          128.0),
      DType::u8);
  std::vector<int64_t> idx;
  for (int64_t i = 0; i < n; ++i) idx.push_back(i);
  const simclr::Tensor indices = simclr::to(simclr::from_vector<int64_t>(idx, {n}), device);
  uint64_t epoch = 0;
  simclr::bench::run(state, device, [&] {
    benchmark::DoNotOptimize(simclr::augment(images, indices, policy, 1, epoch++, dtype));
  });
  const double written = 2.0 * static_cast<double>(n) * policy.out_h * policy.out_w * 3 *
                         static_cast<double>(simclr::dtype_size(dtype));
  state.SetBytesProcessed(static_cast<int64_t>(static_cast<double>(images.nbytes()) + written) *
                          state.iterations());
  state.SetItemsProcessed(2 * n * state.iterations());
}

// CIFAR-size (32 -> 32, no blur), 80 -> 64 with blur, and ImageNet-size (256 -> 224, blur)
// batches; smaller on the CPU.
const bool registered = [] {
  for (Device device : simclr::bench::devices()) {
    const bool cpu = device.is_cpu();
    for (DType dtype : {DType::f32, DType::bf16}) {
      const std::string name =
          std::string("augment/") + device.str() + "/" + simclr::dtype_name(dtype);
      auto* b = benchmark::RegisterBenchmark(name.c_str(), augment_bench, device, dtype);
      b->Args({cpu ? 64 : 1024, 32, 32, 0})
          ->Args({cpu ? 16 : 1024, 80, 64, 1})
          ->Args({cpu ? 4 : 256, 256, 224, 1});
      b->UseRealTime()->Unit(benchmark::kMicrosecond);
    }
  }
  return true;
}();

}  // namespace
