// [cuda] tests of the fused NT-Xent kernels against the CPU reference: forward (row losses and
// log-sum-exps) and backward at M = 2, 6, 130, 4098 and D = 17, 128, 2048 in f32 and bf16 (f64 at
// the small sizes), the row-range (distributed) form, and the autograd op with normalization.
// Where M * M * D is large, the fp64 CPU reference runs on three row ranges only (first, middle,
// last); its backward then takes the CUDA log-sum-exps, which the forward check has just verified
// on those rows.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "cuda_test_util.h"
#include "kernels/nt_xent.h"
#include "kernels/ops.h"

namespace {

using namespace simclr;
using test::kCpu;
using test::kCuda;

// max |a - b| over max |b|: one relative error for a whole tensor (CPU tensors).
double relative_error(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const std::vector<double> x = test::values(a), y = test::values(b);
  double diff = 0, scale = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    diff = std::max(diff, std::abs(x[i] - y[i]));
    scale = std::max(scale, std::abs(y[i]));
  }
  return diff / std::max(scale, 1e-6);  // the floor: all-zero references (m = 2)
}

struct Tol {
  double forward, backward;
};

Tol tol_for(DType dtype) {
  switch (dtype) {
    case DType::f64:
      return {1e-11, 1e-10};
    case DType::f32:
      return {2e-5, 2e-4};
    default:  // bf16: identical inputs, fp32 accumulation; W is rounded to bf16 in backward
      return {2e-4, 3e-2};
  }
}

// Normalized rows, rounded to `dtype`, on the CPU.
Tensor unit_rows(int64_t m, int64_t d, DType dtype, uint64_t seed) {
  NoGradGuard no_grad;
  return to(nt_xent_normalize(test::random_tensor({m, d}, DType::f32, seed)), dtype);
}

void check_sizes(int64_t m, int64_t d, DType dtype, double tau, uint64_t seed) {
  INFO("m " << m << " d " << d << " " << dtype_name(dtype) << " tau " << tau);
  const Tol tol = tol_for(dtype);
  const Tensor z = unit_rows(m, d, dtype, seed);
  const Tensor zc = to(z, kCuda);
  const NtXentRows gpu = nt_xent_rows_forward(zc, 0, m, tau);
  const Tensor gpu_grad = to(nt_xent_rows_backward(zc, gpu.lse, 0, m, tau, 1.0 / m), kCpu);
  const Tensor gpu_loss = to(gpu.loss, kCpu), gpu_lse = to(gpu.lse, kCpu);
  REQUIRE(gpu_grad.dtype() == dtype);
  std::vector<std::pair<int64_t, int64_t>> ranges{{0, m}};
  Tensor lse;  // every row's log-sum-exp, for the CPU backward
  const bool sampled =
      static_cast<double>(m) * static_cast<double>(m) * static_cast<double>(d) > 2e8;
  if (sampled) {
    ranges = {{0, 64}, {m / 2 - 32, m / 2 + 32}, {m - 64, m}};
    lse = gpu_lse;
  } else {
    lse = nt_xent_rows_forward(z, 0, m, tau).lse;
  }
  for (const auto& [begin, end] : ranges) {
    INFO("rows [" << begin << ", " << end << ")");
    const NtXentRows cpu = nt_xent_rows_forward(z, begin, end - begin, tau);
    REQUIRE(relative_error(slice(gpu_loss, 0, begin, end), cpu.loss) <= tol.forward);
    REQUIRE(relative_error(slice(gpu_lse, 0, begin, end), cpu.lse) <= tol.forward);
    const Tensor cpu_grad = nt_xent_rows_backward(z, lse, begin, end - begin, tau, 1.0 / m);
    REQUIRE(relative_error(slice(gpu_grad, 0, begin, end), cpu_grad) <= tol.backward);
  }
}

}  // namespace

TEST_CASE("nt_xent on CUDA matches the CPU reference", "[cuda][kernels][nt_xent]") {
  const DType dtype = GENERATE(DType::f32, DType::bf16);
  uint64_t seed = 44000;
  for (const int64_t m : {2, 6, 130, 4098})
    for (const int64_t d : {17, 128, 2048}) check_sizes(m, d, dtype, 0.1, ++seed);
}

TEST_CASE("nt_xent on CUDA in f64 and at other temperatures", "[cuda][kernels][nt_xent]") {
  uint64_t seed = 44100;
  for (const int64_t m : {2, 6, 130})
    for (const int64_t d : {1, 17, 70}) check_sizes(m, d, DType::f64, 0.1, ++seed);
  check_sizes(66, 33, DType::f32, 1.0, ++seed);
  check_sizes(66, 33, DType::f32, 0.05, ++seed);
  check_sizes(200, 16, DType::f32, 0.5, ++seed);
}

TEST_CASE("nt_xent on CUDA split over row ranges equals one range", "[cuda][kernels][nt_xent]") {
  const int64_t m = 130, d = 128;
  const double tau = 0.2;
  for (const DType dtype : {DType::f32, DType::bf16}) {
    INFO(dtype_name(dtype));
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

TEST_CASE("nt_xent op on CUDA with its normalization matches the CPU", "[cuda][kernels][nt_xent]") {
  for (const bool normalize : {true, false}) {
    INFO("normalize " << normalize);
    const Tensor z = test::random_tensor({70, 40}, DType::f32, 44300);
    test::check_backends(
        [normalize](const std::vector<Tensor>& in) { return nt_xent(in[0], 0.3, normalize); }, {z},
        {.forward = {1e-5, 1e-6}, .backward = {2e-4, 2e-6}, .weight_seed = 44301});
  }
}
