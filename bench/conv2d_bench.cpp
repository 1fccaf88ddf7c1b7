// conv2d: forward, backward data and backward filter at ResNet shapes on im2col + OpenBLAS (CPU)
// and cuDNN (CUDA), in FLOP/s (2 n p q k r s c per direction). The CPU runs batch 4 of the
// ImageNet-ResNet shapes plus the shapes of the CPU training default (ResNet-18 of width 16 on
// 28x28 Fashion-MNIST, batch 256); CUDA runs batch 32 and the same training shapes.
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kernels/dispatch.h"
#include "kernels/nn_ops.h"

namespace {

using simclr::ConvShape;
using simclr::Device;
using simclr::DType;
using simclr::Tensor;

enum class Direction { forward, backward_data, backward_filter };

// {n, h, w, c, k, r (= s), stride, padding}
using Args = std::vector<int64_t>;

ConvShape shape_of(const benchmark::State& state) {
  ConvShape g;
  g.n = state.range(0);
  g.h = state.range(1);
  g.w = state.range(2);
  g.c = state.range(3);
  g.k = state.range(4);
  g.r = g.s = state.range(5);
  g.stride_h = g.stride_w = state.range(6);
  g.pad_h = g.pad_w = state.range(7);
  g.p = (g.h + 2 * g.pad_h - g.r) / g.stride_h + 1;
  g.q = (g.w + 2 * g.pad_w - g.s) / g.stride_w + 1;
  return g;
}

void conv2d_bench(benchmark::State& state, Device device, DType dtype, Direction direction) {
  const ConvShape g = shape_of(state);
  const Tensor x = simclr::bench::input({g.n, g.h, g.w, g.c}, dtype, device, 1);
  const Tensor w = simclr::bench::input({g.k, g.r, g.s, g.c}, dtype, device, 2);
  const Tensor gy = simclr::bench::input({g.n, g.p, g.q, g.k}, dtype, device, 3);
  Tensor gx = Tensor::empty(x.shape(), dtype, device);
  Tensor gw = Tensor::empty(w.shape(), dtype, device);
  simclr::Conv2dOptions options;
  options.stride = {g.stride_h, g.stride_w};
  options.padding = {g.pad_h, g.pad_w};
  const simclr::Stream stream = simclr::current_stream(device);
  simclr::bench::run(state, device, [&] {
    switch (direction) {
      case Direction::forward:
        benchmark::DoNotOptimize(simclr::conv2d(x, w, Tensor(), options));
        break;
      case Direction::backward_data:
        SIMCLR_DISPATCH(device, conv2d_backward_data, dtype, g, gy.data_ptr(), w.data_ptr(),
                        gx.data_ptr(), stream);
        break;
      case Direction::backward_filter:
        SIMCLR_DISPATCH(device, conv2d_backward_filter, dtype, g, x.data_ptr(), gy.data_ptr(),
                        gw.data_ptr(), stream);
        break;
    }
  });
  const double flop = 2.0 * static_cast<double>(g.n * g.p * g.q * g.k * g.r * g.s * g.c);
  state.counters["FLOP"] = benchmark::Counter(flop, benchmark::Counter::kIsIterationInvariantRate);
}

bool register_all() {
  // The CPU training default: the stem (1 -> 16 channels) and the 16-channel stage at 28x28,
  // the strided stage entry and its 1x1 projection.
  const std::vector<Args> training{{256, 28, 28, 16, 16, 3, 1, 1},
                                   {256, 28, 28, 1, 16, 3, 1, 1},
                                   {256, 28, 28, 16, 32, 3, 2, 1},
                                   {256, 28, 28, 16, 32, 1, 2, 0}};
  const auto resnet = [](int64_t n) {
    return std::vector<Args>{{n, 56, 56, 64, 64, 3, 1, 1},
                             {n, 28, 28, 128, 128, 3, 1, 1},
                             {n, 56, 56, 256, 64, 1, 1, 0},
                             {n, 224, 224, 3, 64, 7, 2, 3}};
  };
  const std::pair<const char*, Direction> directions[] = {
      {"conv2d_forward", Direction::forward},
      {"conv2d_backward_data", Direction::backward_data},
      {"conv2d_backward_filter", Direction::backward_filter}};
  for (const Device device : simclr::bench::devices()) {
    std::vector<Args> args = resnet(device.is_cpu() ? 4 : 32);
    args.insert(args.end(), training.begin(), training.end());
    const std::vector<DType> dtypes = device.is_cpu() ? std::vector<DType>{DType::f32}
                                                      : std::vector<DType>{DType::f32, DType::bf16};
    for (const auto& [name, direction] : directions) {
      for (const DType dtype : dtypes) {
        const std::string full =
            std::string(name) + "/" + device.str() + "/" + simclr::dtype_name(dtype);
        auto* b =
            benchmark::RegisterBenchmark(full.c_str(), conv2d_bench, device, dtype, direction);
        b->ArgNames({"n", "h", "w", "c", "k", "r", "stride", "pad"});
        for (const Args& a : args) b->Args(a);
        b->UseRealTime()->Unit(benchmark::kMillisecond);
      }
    }
  }
  return true;
}

// Registered before main runs.
const bool registered = register_all();

}  // namespace
