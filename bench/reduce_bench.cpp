// sum over the last or the first dimension, in GB/s of bytes read.
#include "bench/bench_util.h"

namespace {

void sum_bench(benchmark::State& state, simclr::Device device, simclr::DType dtype) {
  const int64_t rows = state.range(0), cols = state.range(1), dim = state.range(2);
  const simclr::Tensor x = simclr::bench::input({rows, cols}, dtype, device, 1);
  simclr::bench::run(state, device, [&] { benchmark::DoNotOptimize(simclr::sum(x, {dim})); });
  state.SetBytesProcessed(static_cast<int64_t>(static_cast<double>(x.nbytes())) *
                          state.iterations());
}

// Registered before main runs.
const bool registered =
    (simclr::bench::register_each("sum", {simclr::DType::f32},
                                  {{4096, 4096, 1}, {4096, 4096, 0}, {256, 100000, 1}}, sum_bench),
     true);

}  // namespace
