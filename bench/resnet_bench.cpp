// One ResNet training step (forward, backward through a sum of the features) on random NHWC
// images, in images per second: ResNet-18 and ResNet-50 at ImageNet size on CUDA, and the SimCLR
// CPU default shape (ResNet-18 width 16, small stem, 28 x 28 x 1) everywhere.
#include "bench/bench_util.h"
#include "layers/resnet.h"

namespace {

struct StepShape {
  int depth;
  int64_t width, size, channels, batch;
  bool small_stem;
};

void resnet_step(benchmark::State& state, simclr::Device device, simclr::DType dtype,
                 const StepShape& s) {
  simclr::ResNetConfig config;
  config.depth = s.depth;
  config.base_width = s.width;
  config.small_stem = s.small_stem;
  config.in_channels = s.channels;
  simclr::ResNet net(config);
  net.to(device);
  const simclr::Tensor x =
      simclr::bench::input({s.batch, s.size, s.size, s.channels}, dtype, device, 1);
  auto step = [&] {
    simclr::sum(net.forward(x)).backward();
    net.zero_grad();
  };
  step();  // warm-up: allocator cache, algorithm choices
  simclr::synchronize(simclr::current_stream(device));
  for (auto _ : state) {
    step();
    simclr::synchronize(simclr::current_stream(device));
  }
  state.counters["images"] = benchmark::Counter(static_cast<double>(s.batch),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

const bool registered = [] {
  for (simclr::Device device : simclr::bench::devices()) {
    std::vector<std::pair<std::string, StepShape>> shapes = {
        {"resnet18_w16_28px_b256", {18, 16, 28, 1, 256, true}}};
    if (device.is_cuda()) {
      shapes.push_back({"resnet18_224px_b128", {18, 64, 224, 3, 128, false}});
      shapes.push_back({"resnet50_224px_b128", {50, 64, 224, 3, 128, false}});
    }
    for (simclr::DType dtype : {simclr::DType::f32, simclr::DType::bf16}) {
      if (device.is_cpu() && dtype == simclr::DType::bf16) continue;
      for (const auto& [name, shape] : shapes) {
        const std::string full =
            "resnet_step/" + name + "/" + device.str() + "/" + simclr::dtype_name(dtype);
        benchmark::RegisterBenchmark(full.c_str(), resnet_step, device, dtype, shape)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
  return true;
}();

}  // namespace
