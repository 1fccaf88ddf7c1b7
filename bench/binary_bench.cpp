// Elementwise binary op (add, with and without broadcasting), in GB/s of bytes read and written.
#include "bench/bench_util.h"

namespace {

void add_bench(benchmark::State& state, simclr::Device device, simclr::DType dtype) {
  const int64_t rows = state.range(0), cols = state.range(1);
  const bool broadcast = state.range(2) != 0;
  const simclr::Tensor a = simclr::bench::input({rows, cols}, dtype, device, 1);
  const simclr::Tensor b = simclr::bench::input({broadcast ? 1 : rows, cols}, dtype, device, 2);
  simclr::bench::run(state, device, [&] { benchmark::DoNotOptimize(simclr::add(a, b)); });
  const double bytes = static_cast<double>((broadcast ? 2 * a.nbytes() : 3 * a.nbytes()));
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
}

// Registered before main runs.
const bool registered =
    (simclr::bench::register_each("add", {simclr::DType::f32, simclr::DType::bf16},
                                  {{1024, 1024, 0}, {1024, 1024, 1}, {8192, 2048, 0}}, add_bench),
     true);

}  // namespace
