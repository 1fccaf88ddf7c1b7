// [cuda] tests of batch_norm: the CUDA kernels against the CPU reference on the same inputs, in
// training and eval, with and without the fused residual and ReLU, at channels 3, 17, 33, 65 (one
// channel per thread) and 16, 64, 256 (four per thread, and the one-per-thread fallback for a
// misaligned input), spatial 1x1 with a batch of 2, and row counts that leave each thread several
// rows: forward (y, saved statistics, updated running statistics), backward (grad_x, grad_gamma,
// grad_beta, grad_residual) for f32, f64, bf16 and f16; the op end to end with autograd; and
// bit-identical results from run to run.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "batch_norm_modes.h"
#include "cuda_test_util.h"
#include "kernels/dispatch.h"
#include "kernels/nn_ops.h"

namespace {

using namespace simclr;
using test::kCpu;
using test::kCuda;
using test::Tolerance;

constexpr float kEps = 1e-5f;
constexpr float kMomentum = 0.1f;

// Outputs in the input dtype (y, grad_x): CPU and CUDA statistics differ in the last f32 bits
// (Welford and Chan merges in f32 against two passes in double).
constexpr test::DTypeTolerances kOutputTol{
    .f64 = {1e-9, 1e-9}, .f32 = {1e-4, 1e-4}, .bf16 = {2e-2, 2e-2}, .f16 = {4e-3, 4e-3}};
// f32 statistics and parameter gradients; from f64 data they are the same doubles rounded once.
Tolerance stat_tol(DType dtype) {
  return dtype == DType::f64 ? Tolerance{1e-6, 1e-7} : Tolerance{1e-4, 1e-5};
}
Tolerance param_grad_tol(DType dtype) {
  return dtype == DType::f64 ? Tolerance{1e-6, 1e-6} : Tolerance{1e-4, 1e-4};
}

// Gradients through the op: each backend saves its own f32 statistics, and with two rows per
// channel grad_x is mostly cancellation, which magnifies their last-bit differences.
Tolerance op_grad_tol(DType dtype) {
  return dtype == DType::bf16 || dtype == DType::f16 ? kOutputTol(dtype) : Tolerance{1e-4, 1e-4};
}

using test::all_modes;
using test::describe;
using test::Mode;

struct Case {
  Shape shape;
  bool misaligned = false;  // x one element past an aligned address: no vector loads
};

const std::vector<Case>& cases() {
  static const std::vector<Case> c{{{2, 1, 1, 3}},    {{2, 1, 1, 17}},       {{2, 1, 1, 64}},
                                   {{5, 4, 4, 3}},    {{3, 5, 7, 33}},       {{4, 3, 3, 65}},
                                   {{2, 9, 9, 64}},   {{2, 9, 9, 64}, true}, {{300, 20}},
                                   {{7, 16}},         {{40, 28, 28, 64}},    {{8, 28, 28, 256}},
                                   {{9, 13, 13, 17}}, {{3, 7, 7, 1024}}};
  return c;
}

// A copy of t on `device`, one element past an aligned address when `misaligned`.
Tensor place(const Tensor& t, Device device, bool misaligned) {
  if (!misaligned) return to(t, device);
  Tensor buffer = Tensor::empty({t.numel() + 1}, t.dtype(), device);
  Tensor view = reshape(slice(buffer, 0, 1, t.numel() + 1), t.shape());
  copy_(view, t);
  return view;
}

float* f32(const Tensor& t) {
  return t.defined() ? t.data<float>() : nullptr;
}
const void* ptr(const Tensor& t) {
  return t.defined() ? t.data_ptr() : nullptr;
}
void* mut(const Tensor& t) {
  return t.defined() ? t.data_ptr() : nullptr;
}

struct Inputs {
  int64_t rows = 0, channels = 0;
  Tensor x, residual, gamma, beta, running_mean, running_var, grad_y;
};

Inputs on(const Inputs& in, Device device, bool misaligned) {
  Inputs out = in;
  out.x = place(in.x, device, misaligned);
  for (Tensor* t :
       {&out.residual, &out.gamma, &out.beta, &out.running_mean, &out.running_var, &out.grad_y}) {
    if (t->defined()) *t = to(*t, device);
  }
  return out;
}

struct Forward {
  Tensor y, save_mean, save_invstd, running_mean, running_var;
};

// The forward kernel of `device`'s backend; the running statistics are updated copies.
Forward forward(const Inputs& in, const Mode& mode, Device device) {
  Forward f;
  f.y = Tensor::empty(in.x.shape(), in.x.dtype(), device);
  f.running_mean = clone(in.running_mean);
  f.running_var = clone(in.running_var);
  if (mode.training) {
    f.save_mean = Tensor::empty({in.channels}, DType::f32, device);
    f.save_invstd = Tensor::empty({in.channels}, DType::f32, device);
  }
  SIMCLR_DISPATCH(device, batch_norm_forward, in.x.dtype(), in.rows, in.channels, in.x.data_ptr(),
                  f32(in.gamma), f32(in.beta), mode.residual ? ptr(in.residual) : nullptr,
                  mode.relu, mode.training, kMomentum, kEps, f32(f.running_mean),
                  f32(f.running_var), f32(f.save_mean), f32(f.save_invstd), f.y.data_ptr(),
                  current_stream(device));
  return f;
}

struct Backward {
  Tensor grad_x, grad_gamma, grad_beta, grad_residual;
};

Backward backward(const Inputs& in, const Mode& mode, const Tensor& y, const Tensor& mean,
                  const Tensor& invstd, Device device) {
  Backward b;
  b.grad_x = Tensor::empty(in.x.shape(), in.x.dtype(), device);
  b.grad_gamma = Tensor::empty({in.channels}, DType::f32, device);
  b.grad_beta = Tensor::empty({in.channels}, DType::f32, device);
  if (mode.residual) b.grad_residual = Tensor::empty(in.x.shape(), in.x.dtype(), device);
  SIMCLR_DISPATCH(device, batch_norm_backward, in.x.dtype(), in.rows, in.channels, in.x.data_ptr(),
                  mode.relu ? ptr(y) : nullptr, in.grad_y.data_ptr(), f32(in.gamma), f32(mean),
                  f32(invstd), mode.relu, mode.training, mut(b.grad_x), f32(b.grad_gamma),
                  f32(b.grad_beta), mut(b.grad_residual), current_stream(device));
  return b;
}

Inputs random_inputs(const Shape& shape, DType dtype, uint64_t seed) {
  Inputs in;
  in.channels = shape[shape.ndim() - 1];
  in.rows = shape.numel() / in.channels;
  const int64_t c = in.channels;
  in.x = test::random_tensor(shape, dtype, seed, -1.0, 2.0);
  in.residual = test::random_tensor(shape, dtype, seed + 1);
  in.gamma = test::random_tensor({c}, DType::f32, seed + 2, 0.5, 1.5);
  in.beta = test::random_tensor({c}, DType::f32, seed + 3, -0.5, 0.5);
  in.running_mean = test::random_tensor({c}, DType::f32, seed + 4, -0.5, 0.5);
  in.running_var = test::random_tensor({c}, DType::f32, seed + 5, 0.5, 2.0);
  in.grad_y = test::random_tensor(shape, dtype, seed + 6);
  return in;
}

}  // namespace

TEST_CASE("batch_norm kernels on CUDA match the CPU", "[cuda][kernels][batch_norm]") {
  const DType dtype = GENERATE(DType::f32, DType::bf16, DType::f64, DType::f16);
  uint64_t seed = 20000;
  for (const Case& c : cases()) {
    const Inputs host = random_inputs(c.shape, dtype, seed += 10);
    const Inputs dev = on(host, kCuda, c.misaligned);
    for (const Mode& mode : all_modes()) {
      INFO(c.shape.str() << (c.misaligned ? " misaligned " : " ") << describe(mode) << " "
                         << dtype_name(dtype));
      const Forward want = forward(host, mode, kCpu);
      const Forward got = forward(dev, mode, kCuda);
      {
        INFO("y");
        SIMCLR_REQUIRE_CLOSE(got.y, want.y, kOutputTol(dtype));
      }
      if (mode.training) {
        INFO("saved and running statistics");
        SIMCLR_REQUIRE_CLOSE(got.save_mean, want.save_mean, stat_tol(dtype));
        SIMCLR_REQUIRE_CLOSE(got.save_invstd, want.save_invstd, stat_tol(dtype));
        SIMCLR_REQUIRE_CLOSE(got.running_mean, want.running_mean, stat_tol(dtype));
        SIMCLR_REQUIRE_CLOSE(got.running_var, want.running_var, stat_tol(dtype));
      } else {
        INFO("eval leaves the running statistics");
        test::require_same_bytes(got.running_mean, host.running_mean);
        test::require_same_bytes(got.running_var, host.running_var);
      }

      // Backward from the same y and statistics on both (the CPU's), so that the ReLU masks agree.
      Tensor mean = want.save_mean, invstd = want.save_invstd;
      if (!mode.training) {
        NoGradGuard no_grad;
        mean = host.running_mean;
        invstd = rsqrt(add(host.running_var, static_cast<double>(kEps)));
      }
      const Backward bw = backward(host, mode, want.y, mean, invstd, kCpu);
      const Backward bg =
          backward(dev, mode, to(want.y, kCuda), to(mean, kCuda), to(invstd, kCuda), kCuda);
      {
        INFO("grad_x");
        SIMCLR_REQUIRE_CLOSE(bg.grad_x, bw.grad_x, kOutputTol(dtype));
      }
      {
        INFO("grad_gamma and grad_beta");
        SIMCLR_REQUIRE_CLOSE(bg.grad_gamma, bw.grad_gamma, param_grad_tol(dtype));
        SIMCLR_REQUIRE_CLOSE(bg.grad_beta, bw.grad_beta, param_grad_tol(dtype));
      }
      if (mode.residual) {
        INFO("grad_residual is the masked grad_y");
        test::require_same_bytes(bg.grad_residual, bw.grad_residual);
      }
    }
  }
}

TEST_CASE("batch_norm on CUDA without grad_x or parameter gradients",
          "[cuda][kernels][batch_norm]") {
  // Null outputs are skipped; the rest match a full call.
  const Inputs host = random_inputs({6, 5, 5, 64}, DType::f32, 21000);
  const Inputs dev = on(host, kCuda, false);
  const Mode mode{true, true, true};
  const Forward f = forward(dev, mode, kCuda);
  const Backward full = backward(dev, mode, f.y, f.save_mean, f.save_invstd, kCuda);
  Tensor grad_residual = empty_like(dev.x);
  SIMCLR_DISPATCH(kCuda, batch_norm_backward, DType::f32, dev.rows, dev.channels, dev.x.data_ptr(),
                  f.y.data_ptr(), dev.grad_y.data_ptr(), f32(dev.gamma), f32(f.save_mean),
                  f32(f.save_invstd), true, true, nullptr, nullptr, nullptr,
                  grad_residual.data_ptr(), current_stream(kCuda));
  test::require_same_bytes(grad_residual, full.grad_residual);
  Tensor grad_x = empty_like(dev.x);
  SIMCLR_DISPATCH(kCuda, batch_norm_backward, DType::f32, dev.rows, dev.channels, dev.x.data_ptr(),
                  f.y.data_ptr(), dev.grad_y.data_ptr(), f32(dev.gamma), f32(f.save_mean),
                  f32(f.save_invstd), true, true, grad_x.data_ptr(), nullptr, nullptr, nullptr,
                  current_stream(kCuda));
  test::require_same_bytes(grad_x, full.grad_x);
}

TEST_CASE("batch_norm on CUDA is deterministic", "[cuda][kernels][batch_norm]") {
  for (const DType dtype : {DType::f32, DType::bf16}) {
    for (const Shape& shape : {Shape{40, 28, 28, 64}, Shape{9, 13, 13, 17}}) {
      INFO(shape.str() << " " << dtype_name(dtype));
      const Inputs dev = on(random_inputs(shape, dtype, 22000), kCuda, false);
      const Mode mode{true, true, true};
      const Forward a = forward(dev, mode, kCuda), b = forward(dev, mode, kCuda);
      test::require_same_bytes(a.y, b.y);
      test::require_same_bytes(a.save_mean, b.save_mean);
      test::require_same_bytes(a.save_invstd, b.save_invstd);
      test::require_same_bytes(a.running_var, b.running_var);
      const Backward ga = backward(dev, mode, a.y, a.save_mean, a.save_invstd, kCuda);
      const Backward gb = backward(dev, mode, a.y, a.save_mean, a.save_invstd, kCuda);
      test::require_same_bytes(ga.grad_x, gb.grad_x);
      test::require_same_bytes(ga.grad_gamma, gb.grad_gamma);
      test::require_same_bytes(ga.grad_beta, gb.grad_beta);
    }
  }
}

TEST_CASE("batch_norm op on CUDA matches the CPU with autograd", "[cuda][kernels][batch_norm]") {
  const DType dtype = GENERATE(DType::f32, DType::bf16, DType::f64);
  uint64_t seed = 23000;
  for (const Shape& shape : {Shape{2, 1, 1, 17}, Shape{3, 5, 7, 33}, Shape{4, 6, 6, 64}}) {
    for (const bool training : {true, false}) {
      for (const bool with_residual : {false, true}) {
        INFO(shape.str() << (training ? " training" : " eval")
                         << (with_residual ? " residual " : " ") << dtype_name(dtype));
        const Inputs host = random_inputs(shape, dtype, seed += 10);
        Tensor rm_cpu = clone(host.running_mean), rv_cpu = clone(host.running_var);
        Tensor rm_cuda = to(host.running_mean, kCuda), rv_cuda = to(host.running_var, kCuda);
        // Inputs: x, gamma, beta (and residual). No ReLU here: the op's CPU and CUDA outputs
        // differ in the last bits, which could flip a mask; the kernels test covers ReLU.
        std::vector<Tensor> inputs{host.x, host.gamma, host.beta};
        if (with_residual) inputs.push_back(host.residual);
        const Tolerance tol = kOutputTol(dtype);
        test::check_backends(
            [&](const std::vector<Tensor>& in) {
              const bool cuda = in[0].device().is_cuda();
              return batch_norm(in[0], in[1], in[2], cuda ? rm_cuda : rm_cpu,
                                cuda ? rv_cuda : rv_cpu, training, kMomentum, kEps,
                                with_residual ? in[3] : Tensor(), false);
            },
            inputs,
            {.forward = tol,
             .backward = op_grad_tol(dtype),
             .weight_seed = 4646,
             .gradient_shapes = true});
        SIMCLR_REQUIRE_CLOSE(rm_cuda, rm_cpu, stat_tol(dtype));
        SIMCLR_REQUIRE_CLOSE(rv_cuda, rv_cpu, stat_tol(dtype));
      }
    }
  }
}

TEST_CASE("batch_norm on CUDA rejects parameters on another device",
          "[cuda][kernels][batch_norm]") {
  Tensor rm = zeros({4}, DType::f32, kCuda), rv = ones({4}, DType::f32, kCuda);
  const Tensor x = ones({2, 4}, DType::f32, kCuda);
  REQUIRE_THROWS_WITH(batch_norm(x, ones({4}), zeros({4}, DType::f32, kCuda), rm, rv, true),
                      Catch::Contains("cuda:0"));
}
