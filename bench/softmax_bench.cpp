// softmax over the rows of [rows, cols], in GB/s of bytes read and written.
#include "bench/bench_util.h"

namespace {

void softmax_bench(benchmark::State& state, simclr::Device device, simclr::DType dtype) {
  const int64_t rows = state.range(0), cols = state.range(1);
  const simclr::Tensor x = simclr::bench::input({rows, cols}, dtype, device, 1);
  simclr::bench::run(state, device, [&] { benchmark::DoNotOptimize(simclr::softmax(x, 1)); });
  state.SetBytesProcessed(static_cast<int64_t>(2.0 * static_cast<double>(x.nbytes())) *
                          state.iterations());
}

// Registered before main runs.
const bool registered =
    (simclr::bench::register_each("softmax", {simclr::DType::f32, simclr::DType::bf16},
                                  {{4096, 1000}, {512, 16384}}, softmax_bench),
     true);

}  // namespace
