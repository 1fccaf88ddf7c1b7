// linear (GEMM with the bias fused into cuBLASLt's epilogue on CUDA) at projection-head shapes.
#include "bench/bench_util.h"
#include "kernels/nn_ops.h"

namespace {

void linear_bench(benchmark::State& state, simclr::Device device, simclr::DType dtype) {
  const int64_t rows = state.range(0), in = state.range(1), out = state.range(2);
  const simclr::Tensor x = simclr::bench::input({rows, in}, dtype, device, 1);
  const simclr::Tensor w = simclr::bench::input({out, in}, dtype, device, 2);
  const simclr::Tensor b = simclr::bench::input({out}, dtype, device, 3);
  simclr::bench::run(state, device, [&] { benchmark::DoNotOptimize(simclr::linear(x, w, b)); });
  state.counters["FLOP"] = benchmark::Counter(2.0 * static_cast<double>(rows * in * out),
                                              benchmark::Counter::kIsIterationInvariantRate);
  const int64_t bytes =
      static_cast<int64_t>(simclr::dtype_size(dtype)) * (rows * in + in * out + out + rows * out);
  state.SetBytesProcessed(bytes * state.iterations());
}

// Registered before main runs: SimCLR heads (2048 -> 2048 -> 128).
const bool registered = (simclr::bench::register_each(
                             "linear", {simclr::DType::f32, simclr::DType::bf16},
                             {{512, 2048, 2048}, {512, 2048, 128}, {4096, 512, 128}}, linear_bench),
                         true);

}  // namespace
