// matmul: [m, k] x [k, n] on OpenBLAS and cuBLASLt, in FLOP/s.
#include "bench/bench_util.h"

namespace {

void matmul_bench(benchmark::State& state, simclr::Device device, simclr::DType dtype) {
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  const simclr::Tensor a = simclr::bench::input({m, k}, dtype, device, 1);
  const simclr::Tensor b = simclr::bench::input({k, n}, dtype, device, 2);
  simclr::bench::run(state, device, [&] { benchmark::DoNotOptimize(simclr::matmul(a, b)); });
  state.counters["FLOP"] = benchmark::Counter(2.0 * static_cast<double>(m * n * k),
                                              benchmark::Counter::kIsIterationInvariantRate);
}

// Registered before main runs.
const bool registered =
    (simclr::bench::register_each("matmul", {simclr::DType::f32, simclr::DType::bf16},
                                  {{256, 256, 256}, {1024, 1024, 1024}, {4096, 128, 4096}},
                                  matmul_bench),
     true);

}  // namespace
