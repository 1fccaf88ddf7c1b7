// Batch norm forward (training: statistics, running-statistics update, normalize; with the fused
// residual and ReLU of a ResNet block) and backward at ResNet-50 activation shapes, in GB/s of
// the bytes the kernels must move: forward reads x twice (statistics, then normalize) plus the
// residual, writes y; backward reads x, y and grad_y twice (sums, then gradients), writes grad_x
// and grad_residual. The CPU runs a batch of 8 instead of the GPU's 256.
#include <algorithm>
#include <string>

#include "bench/bench_util.h"
#include "kernels/dispatch.h"
#include "kernels/nn_ops.h"

namespace {

using simclr::Device;
using simclr::DType;
using simclr::Tensor;

struct Inputs {
  int64_t rows, channels;
  Tensor x, residual, gamma, beta, running_mean, running_var;
};

Inputs make_inputs(benchmark::State& state, Device device, DType dtype) {
  const int64_t n = device.is_cpu() ? std::min<int64_t>(state.range(0), 8) : state.range(0);
  if (n != state.range(0)) state.SetLabel("batch " + std::to_string(n));
  const int64_t h = state.range(1), w = state.range(2), c = state.range(3);
  Inputs in;
  in.rows = n * h * w;
  in.channels = c;
  in.x = simclr::bench::input({n, h, w, c}, dtype, device, 1);
  in.residual = simclr::bench::input({n, h, w, c}, dtype, device, 2);
  in.gamma = simclr::bench::input({c}, DType::f32, device, 3);
  in.beta = simclr::bench::input({c}, DType::f32, device, 4);
  in.running_mean = simclr::zeros({c}, DType::f32, device);
  in.running_var = simclr::ones({c}, DType::f32, device);
  return in;
}

void batch_norm_forward_bench(benchmark::State& state, Device device, DType dtype) {
  Inputs in = make_inputs(state, device, dtype);
  simclr::bench::run(state, device, [&] {
    benchmark::DoNotOptimize(simclr::batch_norm(in.x, in.gamma, in.beta, in.running_mean,
                                                in.running_var, true, 0.1, 1e-5, in.residual,
                                                true));
  });
  const double bytes = 4.0 * static_cast<double>(in.x.nbytes());
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
}

void batch_norm_backward_bench(benchmark::State& state, Device device, DType dtype) {
  Inputs in = make_inputs(state, device, dtype);
  Tensor y = simclr::batch_norm(in.x, in.gamma, in.beta, in.running_mean, in.running_var, true, 0.1,
                                1e-5, in.residual, true);
  const Tensor grad_y = simclr::bench::input(in.x.shape(), dtype, device, 5);
  const Tensor mean = simclr::zeros({in.channels}, DType::f32, device);
  const Tensor invstd = simclr::ones({in.channels}, DType::f32, device);
  Tensor grad_x = simclr::empty_like(in.x), grad_residual = simclr::empty_like(in.x);
  Tensor grad_gamma = simclr::empty_like(in.gamma), grad_beta = simclr::empty_like(in.gamma);
  const simclr::Stream stream = simclr::current_stream(device);
  simclr::bench::run(state, device, [&] {
    SIMCLR_DISPATCH(device, batch_norm_backward, dtype, in.rows, in.channels, in.x.data_ptr(),
                    y.data_ptr(), grad_y.data_ptr(), in.gamma.data<float>(), mean.data<float>(),
                    invstd.data<float>(), true, true, grad_x.data_ptr(), grad_gamma.data<float>(),
                    grad_beta.data<float>(), grad_residual.data_ptr(), stream);
  });
  const double bytes = 8.0 * static_cast<double>(in.x.nbytes());
  state.SetBytesProcessed(static_cast<int64_t>(bytes) * state.iterations());
}

// {n, h, w, c}: ResNet-50's stages (the CPU takes n = 8).
const std::vector<std::vector<int64_t>> kShapes{
    {256, 112, 112, 64}, {256, 56, 56, 64},   {256, 56, 56, 256}, {256, 28, 28, 512},
    {256, 14, 14, 256},  {256, 14, 14, 1024}, {256, 7, 7, 2048}};

// Registered before main runs.
const bool registered =
    (simclr::bench::register_each("batch_norm_forward", {DType::f32, DType::bf16}, kShapes,
                                  batch_norm_forward_bench),
     simclr::bench::register_each("batch_norm_backward", {DType::f32, DType::bf16}, kShapes,
                                  batch_norm_backward_bench),
     true);

}  // namespace
