#include "bench/bench_util.h"

#include <string>

#include "core/cuda_device.h"
#include "kernels/cpu_blas.h"

namespace simclr::bench {

std::vector<Device> devices() {
  std::vector<Device> out{Device::cpu()};
  if (cuda_available()) out.push_back(Device::cuda(0));
  return out;
}

Tensor input(const Shape& shape, DType dtype, Device device, uint64_t seed) {
  Generator gen(seed);
  Tensor t = Tensor::empty(shape, dtype, device);
  return uniform_(t, -1.0, 1.0, &gen);
}

void run(benchmark::State& state, Device device, const std::function<void()>& step) {
  NoGradGuard no_grad;
  step();  // warm-up: allocator cache, cuBLASLt heuristics
  synchronize(current_stream(device));
  for (auto _ : state) {
    step();
    synchronize(current_stream(device));
  }
}

void register_each(const char* name, const std::vector<DType>& dtypes,
                   const std::vector<std::vector<int64_t>>& args,
                   void (*fn)(benchmark::State&, Device, DType)) {
  for (Device device : devices()) {
    for (DType dtype : dtypes) {
      const std::string full = std::string(name) + "/" + device.str() + "/" + dtype_name(dtype);
      auto* b = benchmark::RegisterBenchmark(full.c_str(), fn, device, dtype);
      for (const auto& a : args) b->Args(a);
      b->UseRealTime()->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace simclr::bench

// Every benchmark's main: the benchmarks register themselves from static initializers.
int main(int argc, char** argv) {
  simclr::use_best_cpu_blas_kernels(argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
