// NT-Xent forward + backward at D = 128: the fused kernels (kernels/nt_xent.h, normalization
// fused) against an unfused composition (normalize, matmul, diagonal mask, log_softmax, gather of
// the partner as a masked sum), in FLOP/s of the two M x M x D products the fused backward alone
// would need (4 M^2 D for forward and backward) and, on CUDA, the peak device memory of one
// iteration (peak_MiB). On CUDA, nt_xent_fused_tf32 is f32 with the tiles on TF32 tensor cores.
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "kernels/nt_xent.h"

#if SIMCLR_WITH_CUDA
#include "core/caching_allocator.h"
#endif

namespace {

using namespace simclr;

void report(benchmark::State& state, Device device, int64_t m, int64_t d, size_t peak) {
  const double flops =
      4.0 * static_cast<double>(m) * static_cast<double>(m) * static_cast<double>(d);
  state.counters["FLOP"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  if (device.is_cuda()) state.counters["peak_MiB"] = static_cast<double>(peak) / (1024.0 * 1024.0);
}

void reset_peak(Device device) {
#if SIMCLR_WITH_CUDA
  if (device.is_cuda()) cuda_caching_allocator(device.index).reset_peak_stats();
#endif
}

size_t peak_bytes(Device device) {
#if SIMCLR_WITH_CUDA
  if (device.is_cuda()) return cuda_caching_allocator(device.index).stats().peak_allocated_bytes;
#endif
  return 0;
}

// bench::run times with grad mode off; forward + backward needs it on for the step.
struct GradOn {
  bool previous = grad_enabled();
  GradOn() { set_grad_enabled(true); }
  ~GradOn() { set_grad_enabled(previous); }
  GradOn(const GradOn&) = delete;
  GradOn& operator=(const GradOn&) = delete;
};

bool skip(benchmark::State& state, Device device, int64_t m) {
  if (device.is_cpu() && m > 2048) {
    state.SkipWithError("CPU runs only M <= 2048");
    return true;
  }
  return false;
}

void fused(benchmark::State& state, Device device, DType dtype) {
  const int64_t m = state.range(0), d = state.range(1);
  if (skip(state, device, m)) return;
  Tensor z = bench::input({m, d}, dtype, device, 1);
  z.set_requires_grad(true);
  reset_peak(device);
  bench::run(state, device, [&] {
    const GradOn grad_on;
    z.set_grad(Tensor());
    nt_xent(z, 0.1, true).backward();
  });
  report(state, device, m, d, peak_bytes(device));
}

// The fused loss with set_nt_xent_tf32(true) (CUDA only: the CPU reference ignores the switch).
void fused_tf32(benchmark::State& state, Device device, DType dtype) {
  const bool previous = nt_xent_tf32();
  set_nt_xent_tf32(true);
  fused(state, device, dtype);
  set_nt_xent_tf32(previous);
}

// The naive loss: S = Z Z^T / tau with -1e9 on the diagonal, log_softmax, and the partner's
// log-probability picked by a one-hot mask (built once, outside the timing).
void unfused(benchmark::State& state, Device device, DType dtype) {
  const int64_t m = state.range(0), d = state.range(1);
  if (skip(state, device, m)) return;
  Tensor z = bench::input({m, d}, dtype, device, 1);
  z.set_requires_grad(true);
  std::vector<float> diag(static_cast<size_t>(m * m), 0.0f), partner(diag.size(), 0.0f);
  for (int64_t i = 0; i < m; ++i) {
    diag[static_cast<size_t>(i * m + i)] = -1e9f;
    partner[static_cast<size_t>(i * m + (i + m / 2) % m)] = -1.0f / static_cast<float>(m);
  }
  const Tensor mask = to(to(from_vector(diag, {m, m}), dtype), device);
  const Tensor pick = to(to(from_vector(partner, {m, m}), dtype), device);
  reset_peak(device);
  bench::run(state, device, [&] {
    const GradOn grad_on;
    z.set_grad(Tensor());
    const Tensor zn = nt_xent_normalize(z);
    const Tensor s = add(mul(matmul(zn, transpose(zn, 0, 1)), 10.0), mask);
    sum(mul(log_softmax(s, 1), pick)).backward();
  });
  report(state, device, m, d, peak_bytes(device));
}

const std::vector<std::vector<int64_t>> kSizes{{512, 128},   {2048, 128},  {4096, 128},
                                               {16384, 128}, {32768, 128}, {65536, 128}};
// The unfused version's two M x M masks are built on the host: past 16384 rows they alone take
// 2 x 4 GiB and more of host memory (and minutes to build), so it stops there.
const std::vector<std::vector<int64_t>> kUnfusedSizes{kSizes.begin(), kSizes.begin() + 4};

const bool registered = [] {
  bench::register_each("nt_xent_fused", {DType::f32, DType::bf16}, kSizes, fused);
  bench::register_each("nt_xent_unfused", {DType::f32, DType::bf16}, kUnfusedSizes, unfused);
  for (Device device : bench::devices()) {
    if (!device.is_cuda()) continue;
    const std::string name = "nt_xent_fused_tf32/" + device.str() + "/f32";
    auto* b = benchmark::RegisterBenchmark(name.c_str(), fused_tf32, device, DType::f32);
    for (const auto& a : kSizes) b->Args(a);
    b->UseRealTime()->Unit(benchmark::kMicrosecond);
  }
  return true;
}();

}  // namespace
