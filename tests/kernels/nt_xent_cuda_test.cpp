// [cuda] tests of the fused NT-Xent kernels against the CPU reference: forward (row losses and
// log-sum-exps) and backward at M = 2, 6, 130, 4098 and D = 17, 128, 2048 in f32 and bf16 (f64 at
// the small sizes), each with and without the fused L2 normalization, and f32 on TF32 tensor
// cores; the inverse-norm pre-pass; the row-range (distributed) form; the TF32 switch's effect;
// and the autograd op with normalization.
// The kernels are called directly (kernels/backends.h) on poisoned outputs. Where M * M * D is
// large, the fp64 CPU reference runs on three row ranges only (first, middle, last); its backward
// then takes the CUDA log-sum-exps, which the forward check has just verified on those rows.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "cuda_test_util.h"
#include "kernels/backends.h"
#include "kernels/dispatch.h"
#include "kernels/nt_xent.h"
#include "kernels/ops.h"

namespace {

using namespace simclr;
using test::kCpu;
using test::kCuda;

// max |a - b| over max(max |b|, floor): one relative error for a whole tensor (CPU tensors). The
// floor stands for the natural size of the values where the reference itself is about zero (the
// gradient at m = 2).
double relative_error(const Tensor& a, const Tensor& b, double floor = 1e-6) {
  REQUIRE(a.shape() == b.shape());
  const std::vector<double> x = test::values(a), y = test::values(b);
  double diff = 0, scale = floor;
  for (size_t i = 0; i < x.size(); ++i) {
    diff = std::max(diff, std::abs(x[i] - y[i]));
    scale = std::max(scale, std::abs(y[i]));
  }
  return diff / scale;
}

// Which kernels run: raw z with the fused normalization, or rows used as given; f32 on TF32.
struct Mode {
  bool normalize = false;
  bool tf32 = false;
};

struct Tol {
  double forward, backward;
};

Tol tol_for(DType dtype, const Mode& mode) {
  switch (dtype) {
    case DType::f64:
      return {1e-11, 1e-10};
    case DType::f32:
      // TF32 rounds every operand to a 10-bit mantissa (relative 2^-11): an emulation of the
      // kernels' arithmetic on the CPU (operands rounded as cvt.rna does, fp32 sums) gave at most
      // 3.2e-4 (forward) and 6e-4 (backward) at these sizes; the bounds leave a margin of 5.
      return mode.tf32 ? Tol{2e-3, 4e-3} : Tol{2e-5, 2e-4};
    default:  // bf16: identical inputs, fp32 accumulation; W is rounded to bf16 in backward
      return {2e-4, 3e-2};
  }
}

// Normalized rows, rounded to `dtype`, on the CPU.
Tensor unit_rows(int64_t m, int64_t d, DType dtype, uint64_t seed) {
  NoGradGuard no_grad;
  return to(nt_xent_normalize(test::random_tensor({m, d}, DType::f32, seed)), dtype);
}

// Raw rows with norms from 0.1 to 10, for the fused normalization.
Tensor raw_rows(int64_t m, int64_t d, DType dtype, uint64_t seed) {
  NoGradGuard no_grad;
  const Tensor scales = exp(test::random_tensor({m, 1}, DType::f32, seed + 1, -2.3, 2.3));
  return to(mul(unit_rows(m, d, DType::f32, seed), scales), dtype);
}

// One backend's kernels on the global z (on that backend) over rows [begin, begin + rows).
struct Backend {
  const Tensor& z;
  Tensor inv;  // undefined without normalization
  double tau;
  bool tf32;

  Device device() const { return z.device(); }
  Stream stream() const { return current_stream(device()); }
  DType acc() const { return z.dtype() == DType::f64 ? DType::f64 : DType::f32; }
  NtXentArgs args(int64_t begin, int64_t rows) const {
    return NtXentArgs{.dtype = z.dtype(),
                      .rows = rows,
                      .row_offset = begin,
                      .m = z.size(0),
                      .d = z.size(1),
                      .z = z.data_ptr(),
                      .inv_norm = inv.defined() ? inv.data_ptr() : nullptr,
                      .inv_temperature = 1.0 / tau,
                      .tf32 = tf32};
  }

  static Tensor poisoned(const Shape& shape, DType dtype, Device device) {
    return full(shape, NAN, dtype, device);
  }

  static Tensor inv_norms(const Tensor& z) {
    Tensor inv =
        poisoned({z.size(0)}, z.dtype() == DType::f64 ? DType::f64 : DType::f32, z.device());
    const Stream s = current_stream(z.device());
    SIMCLR_DISPATCH(z.device(), nt_xent_inv_norm, z.dtype(), z.size(0), z.size(1), z.data_ptr(),
                    inv.data_ptr(), s);
    return inv;
  }

  // {loss, lse} of the rows, on the CPU.
  std::pair<Tensor, Tensor> forward(int64_t begin, int64_t rows) const {
    Tensor loss = poisoned({rows}, acc(), device()), lse = poisoned({rows}, acc(), device());
    SIMCLR_DISPATCH(device(), nt_xent_forward, args(begin, rows), loss.data_ptr(), lse.data_ptr(),
                    stream());
    return {to(loss, kCpu), to(lse, kCpu)};
  }

  // The rows' gradient of the mean loss (lse: every row's, on the CPU), on the CPU.
  Tensor backward(const Tensor& lse, int64_t begin, int64_t rows) const {
    const Tensor l = to(lse, device());
    Tensor grad = poisoned({rows, z.size(1)}, z.dtype(), device());
    const double scale = 1.0 / (static_cast<double>(z.size(0)) * tau);
    SIMCLR_DISPATCH(device(), nt_xent_backward, args(begin, rows), l.data_ptr(), scale,
                    grad.data_ptr(), stream());
    return to(grad, kCpu);
  }
};

// The gradient's natural size: the largest term 2 zhat_pos(k) / (m tau) taken through row k's
// inverse norm (the floor of relative_error for gradients).
double grad_unit(const Tensor& z, const Tensor& inv, double tau) {
  const int64_t m = z.size(0), d = z.size(1);
  const std::vector<double> v = test::values(z);
  const std::vector<double> s = inv.defined() ? test::values(inv) : std::vector<double>(m, 1.0);
  double unit = 0;
  for (int64_t k = 0; k < m; ++k) {
    const int64_t pos = (k + m / 2) % m;
    for (int64_t c = 0; c < d; ++c) unit = std::max(unit, s[k] * s[pos] * std::abs(v[pos * d + c]));
  }
  return 2.0 * unit / (static_cast<double>(m) * tau);
}

void check_sizes(int64_t m, int64_t d, DType dtype, double tau, uint64_t seed, Mode mode) {
  INFO("m " << m << " d " << d << " " << dtype_name(dtype) << " tau " << tau << " normalize "
            << mode.normalize << " tf32 " << mode.tf32);
  const Tol tol = tol_for(dtype, mode);
  const Tensor z = mode.normalize ? raw_rows(m, d, dtype, seed) : unit_rows(m, d, dtype, seed);
  const Tensor zc = to(z, kCuda);
  Backend cpu{z, Tensor(), tau, mode.tf32}, gpu{zc, Tensor(), tau, mode.tf32};
  if (mode.normalize) {
    cpu.inv = Backend::inv_norms(z);
    gpu.inv = Backend::inv_norms(zc);
    REQUIRE(relative_error(to(gpu.inv, kCpu), cpu.inv) <= (dtype == DType::f64 ? 1e-14 : 1e-6));
  }
  const auto [gpu_loss, gpu_lse] = gpu.forward(0, m);
  const Tensor gpu_grad = gpu.backward(gpu_lse, 0, m);
  REQUIRE(gpu_grad.dtype() == dtype);
  std::vector<std::pair<int64_t, int64_t>> ranges{{0, m}};
  Tensor lse;  // every row's log-sum-exp, for the CPU backward
  const bool sampled =
      static_cast<double>(m) * static_cast<double>(m) * static_cast<double>(d) > 2e8;
  if (sampled) {
    ranges = {{0, 64}, {m / 2 - 32, m / 2 + 32}, {m - 64, m}};
    lse = gpu_lse;
  } else {
    lse = cpu.forward(0, m).second;
  }
  const double unit = grad_unit(z, cpu.inv, tau);
  for (const auto& [begin, end] : ranges) {
    INFO("rows [" << begin << ", " << end << ")");
    const auto [loss, row_lse] = cpu.forward(begin, end - begin);
    REQUIRE(relative_error(slice(gpu_loss, 0, begin, end), loss) <= tol.forward);
    REQUIRE(relative_error(slice(gpu_lse, 0, begin, end), row_lse) <= tol.forward);
    const Tensor grad = cpu.backward(lse, begin, end - begin);
    REQUIRE(relative_error(slice(gpu_grad, 0, begin, end), grad, unit) <= tol.backward);
  }
}

void check_issue_sizes(DType dtype, Mode mode, uint64_t seed) {
  for (const int64_t m : {2, 6, 130, 4098})
    for (const int64_t d : {17, 128, 2048}) check_sizes(m, d, dtype, 0.1, ++seed, mode);
}

}  // namespace

TEST_CASE("nt_xent on CUDA matches the CPU reference", "[cuda][kernels][nt_xent]") {
  const DType dtype = GENERATE(DType::f32, DType::bf16);
  check_issue_sizes(dtype, Mode{}, 44000);
}

// The two grids below leave the compute-sanitizer runs of scripts/gpu-check ([no-sanitizer]): at
// M = 4098 they would take minutes there. Their kernels run under the sanitizer at the small sizes
// of "nt_xent on CUDA in f64 and at other temperatures", which covers both options.
TEST_CASE("nt_xent on CUDA with the fused normalization matches the CPU reference",
          "[cuda][kernels][nt_xent][no-sanitizer]") {
  const DType dtype = GENERATE(DType::f32, DType::bf16);
  check_issue_sizes(dtype, Mode{.normalize = true}, 44500);
}

TEST_CASE("nt_xent on CUDA with f32 on TF32 tensor cores matches the CPU reference",
          "[cuda][kernels][nt_xent][no-sanitizer]") {
  const bool normalize = GENERATE(false, true);
  check_issue_sizes(DType::f32, Mode{.normalize = normalize, .tf32 = true}, 44600);
}

TEST_CASE("nt_xent on CUDA in f64 and at other temperatures", "[cuda][kernels][nt_xent]") {
  uint64_t seed = 44100;
  for (const bool normalize : {false, true}) {
    const Mode mode{.normalize = normalize};
    for (const int64_t m : {2, 6, 130})
      for (const int64_t d : {1, 17, 70}) check_sizes(m, d, DType::f64, 0.1, ++seed, mode);
    check_sizes(66, 33, DType::f32, 1.0, ++seed, mode);
    check_sizes(66, 33, DType::f32, 0.05, ++seed, mode);
    check_sizes(200, 16, DType::f32, 0.5, ++seed, mode);
    check_sizes(200, 16, DType::f32, 0.5, ++seed, Mode{.normalize = normalize, .tf32 = true});
  }
}

TEST_CASE("nt_xent on CUDA split over row ranges equals one range", "[cuda][kernels][nt_xent]") {
  const int64_t m = 130, d = 128;
  const double tau = 0.2;
  for (const auto& [dtype, tf32] :
       {std::pair{DType::f32, false}, std::pair{DType::bf16, false}, std::pair{DType::f32, true}}) {
    INFO(dtype_name(dtype) << " tf32 " << tf32);
    const NtXentTf32Guard scope(tf32);
    const Tensor z = to(unit_rows(m, d, dtype, 44200), kCuda);
    const NtXentRows all = nt_xent_rows_forward(z, 0, m, tau);
    const Tensor grad = to(nt_xent_rows_backward(z, all.lse, 0, m, tau, 1.0 / m), kCpu);
    for (const int ranks : {2, 3}) {
      INFO(ranks << " ranks");
      double total = 0;
      for (int r = 0; r < ranks; ++r) {
        const int64_t begin = m * r / ranks, end = m * (r + 1) / ranks;
        const NtXentRows part = nt_xent_rows_forward(z, begin, end - begin, tau);
        REQUIRE(relative_error(to(part.lse, kCpu), to(slice(all.lse, 0, begin, end), kCpu)) <=
                1e-6);
        total += item(to(part.loss_sum(), kCpu));
        const Tensor g = nt_xent_rows_backward(z, all.lse, begin, end - begin, tau, 1.0 / m);
        REQUIRE(relative_error(to(g, kCpu), slice(grad, 0, begin, end)) <= 1e-6);
      }
      REQUIRE(total / m == Approx(item(to(mean(all.loss), kCpu))).epsilon(1e-5));
    }
  }
}

TEST_CASE("nt_xent's TF32 switch rounds f32 operands to TF32 on CUDA", "[cuda][kernels][nt_xent]") {
  // One column, rows 1 + 2^-12, 1, 1, 1, tau = 1: in fp32 s_0j = 1 + 2^-12, so lse_0 =
  // 1 + 2^-12 + log 3; TF32 keeps 10 mantissa bits, s_0j = 1 and lse_0 = 1 + log 3.
  const Tensor z = to(from_vector<float>({1.0f + 0x1p-12f, 1.0f, 1.0f, 1.0f}, {4, 1}), kCuda);
  for (const bool on : {false, true}) {
    INFO("tf32 " << on);
    const NtXentTf32Guard scope(on);
    const double lse0 = test::values(to(nt_xent_rows_forward(z, 0, 4, 1.0).lse, kCpu))[0];
    REQUIRE(lse0 == Approx(1.0 + (on ? 0.0 : 0x1p-12) + std::log(3.0)).margin(1e-6));
  }
}

TEST_CASE("nt_xent op on CUDA with its normalization matches the CPU", "[cuda][kernels][nt_xent]") {
  struct Case {
    bool normalize, tf32;
    test::Tolerance forward, backward;
  };
  // TF32's error grows with |s|: its check takes the normalized loss only (|s| <= 1 / tau).
  for (const Case& c : {Case{true, false, {1e-5, 1e-6}, {2e-4, 2e-6}},
                        Case{false, false, {1e-5, 1e-6}, {2e-4, 2e-6}},
                        Case{true, true, {2e-3, 1e-4}, {4e-3, 4e-5}}}) {
    INFO("normalize " << c.normalize << " tf32 " << c.tf32);
    const NtXentTf32Guard scope(c.tf32);
    const bool normalize = c.normalize;
    test::check_backends(
        [normalize](const std::vector<Tensor>& in) { return nt_xent(in[0], 0.3, normalize); },
        {test::random_tensor({70, 40}, DType::f32, 44300)},
        {.forward = c.forward, .backward = c.backward, .weight_seed = 44301});
  }
}
