// batch_norm on the CPU: a hand-computed case, the saved statistics, PyTorch's running-statistics
// rule, the plain composition of existing ops (forward and gradients) in training and eval, with
// and without the fused residual and ReLU, at several shapes (channels 3, 17, 33, 65; 1x1
// spatial; a batch of 2), low-precision inputs, argument checks and gradcheck in f64.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <vector>

#include "batch_norm_modes.h"
#include "kernels/backends.h"
#include "kernels/gradcheck.h"
#include "kernels/nn_ops.h"
#include "test_util.h"

using namespace simclr;

namespace {

constexpr double kEps = 1e-5;
constexpr double kMomentum = 0.1;
// The kernels take eps as f32: the reference adds the same value.
const double kEpsF32 = static_cast<double>(static_cast<float>(kEps));

using test::all_modes;
using test::describe;
using test::Mode;

// Channel parameters (f32 [c]) in [low, high).
Tensor param(int64_t c, uint64_t seed, double low, double high) {
  return test::random_tensor({c}, DType::f32, seed, low, high);
}

// bn(x) (+ residual) (then relu) from existing ops, in x's dtype; the statistics over every
// dimension but the last (training) or the running ones (eval).
Tensor reference(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& rm,
                 const Tensor& rv, bool training, const Tensor& residual, bool relu) {
  std::vector<int64_t> dims;
  for (int64_t d = 0; d + 1 < x.ndim(); ++d) dims.push_back(d);
  const DType dt = x.dtype();
  Tensor mu, var;
  if (training) {
    mu = mean(x, dims, true);
    var = mean(square(x - mu), dims, true);
  } else {
    mu = to(rm, dt);
    var = to(rv, dt);
  }
  Tensor y = (x - mu) * rsqrt(var + kEpsF32) * to(gamma, dt) + to(beta, dt);
  if (residual.defined()) y = y + residual;
  return relu ? simclr::relu(y) : y;
}

// The per-channel mean and M2 of x ([rows, c] in row order), in double, as the reference sums.
void moments(const std::vector<double>& x, int64_t rows, int64_t c, std::vector<double>& mu,
             std::vector<double>& m2) {
  mu.assign(static_cast<size_t>(c), 0.0);
  m2.assign(static_cast<size_t>(c), 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < c; ++j) mu[j] += x[static_cast<size_t>(r * c + j)];
  for (int64_t j = 0; j < c; ++j) mu[j] /= static_cast<double>(rows);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < c; ++j) {
      const double d = x[static_cast<size_t>(r * c + j)] - mu[j];
      m2[j] += d * d;
    }
  }
}

// A beta (f32 [c]) that keeps every pre-activation bn(x) + residual at least `margin` away from
// zero, so that gradchecks of the ReLU forms never cross its kink.
Tensor safe_beta(const Tensor& x, const Tensor& gamma, const Tensor& rm, const Tensor& rv,
                 bool training, const Tensor& residual, double margin) {
  NoGradGuard no_grad;
  const int64_t c = x.shape()[x.ndim() - 1];
  Tensor rm_copy = clone(rm), rv_copy = clone(rv);
  const std::vector<double> pre = test::values(batch_norm(
      x, gamma, zeros({c}), rm_copy, rv_copy, training, kMomentum, kEps, residual, false));
  const int64_t rows = x.numel() / c;
  std::vector<float> beta(static_cast<size_t>(c), 0.0f);
  for (int64_t j = 0; j < c; ++j) {
    bool found = false;
    for (int k = 0; k <= 400 && !found; ++k) {
      const float b = static_cast<float>((k % 2 ? 1 : -1) * (k / 2) * 0.01);
      double closest = 1e9;
      for (int64_t r = 0; r < rows; ++r)
        closest = std::min(closest, std::abs(pre[static_cast<size_t>(r * c + j)] + b));
      if (closest >= margin) {
        beta[static_cast<size_t>(j)] = b;
        found = true;
      }
    }
    REQUIRE(found);
  }
  return from_vector(beta, {c});
}

void check_gradcheck(const GradcheckResult& r) {
  INFO(r.message);
  REQUIRE(r.ok);
}

}  // namespace

TEST_CASE("batch_norm training matches a hand computed case", "[kernels][batch_norm]") {
  // Channel 0: 1, 2, 3, 6 (mean 3, biased variance 3.5, unbiased 14/3); channel 1: -1, 0, 1, 0
  // (mean 0, variance 0.5, unbiased 2/3).
  const Tensor x = from_vector<float>({1, -1, 2, 0, 3, 1, 6, 0}, {4, 2});
  const Tensor gamma = from_vector<float>({2.0f, 0.5f}, {2});
  const Tensor beta = from_vector<float>({0.1f, -1.0f}, {2});
  Tensor rm = from_vector<float>({0.5f, -0.5f}, {2});
  Tensor rv = from_vector<float>({2.0f, 1.0f}, {2});
  const Tensor y = batch_norm(x, gamma, beta, rm, rv, true);

  const double is0 = 1 / std::sqrt(3.5 + kEps), is1 = 1 / std::sqrt(0.5 + kEps);
  const std::vector<double> want{
      (1 - 3) * is0 * 2 + 0.1, -1 * is1 * 0.5 - 1, (2 - 3) * is0 * 2 + 0.1, 0 * is1 * 0.5 - 1,
      (3 - 3) * is0 * 2 + 0.1, 1 * is1 * 0.5 - 1,  (6 - 3) * is0 * 2 + 0.1, 0 * is1 * 0.5 - 1};
  SIMCLR_REQUIRE_CLOSE(y, from_vector(want, {4, 2}), (test::Tolerance{1e-6, 1e-6}));

  // PyTorch's rule in f32: (1 - momentum) * running + momentum * batch, unbiased variance.
  const float m = 0.1f;
  const std::vector<float> got_rm = to_vector<float>(rm), got_rv = to_vector<float>(rv);
  REQUIRE(got_rm[0] == (1 - m) * 0.5f + m * 3.0f);
  REQUIRE(got_rm[1] == (1 - m) * -0.5f + m * 0.0f);
  REQUIRE(got_rv[0] == (1 - m) * 2.0f + m * static_cast<float>(14.0 / 3.0));
  REQUIRE(got_rv[1] == (1 - m) * 1.0f + m * static_cast<float>(2.0 / 3.0));

  // With ReLU and a residual: relu(bn(x) + residual).
  const Tensor residual =
      from_vector<float>({0.5f, 2.0f, 0.0f, 1.5f, -0.2f, 0.0f, -9.0f, 1.0f}, {4, 2});
  Tensor rm2 = zeros({2}), rv2 = ones({2});
  const std::vector<double> fused =
      test::values(batch_norm(x, gamma, beta, rm2, rv2, true, 0.1, 1e-5, residual, true));
  const std::vector<double> res = test::values(residual);
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("element " << i);
    REQUIRE(fused[i] == Approx(std::max(0.0, want[i] + res[i])).margin(1e-6));
  }
}

TEST_CASE("batch_norm kernel saves the batch mean and invstd", "[kernels][batch_norm]") {
  const int64_t rows = 37, c = 17;
  const Tensor x = test::random_tensor({rows, c}, DType::f32, 501, -2.0, 3.0);
  const Tensor gamma = param(c, 502, 0.5, 1.5), beta = param(c, 503, -0.5, 0.5);
  Tensor rm = param(c, 504, -0.5, 0.5), rv = param(c, 505, 0.5, 2.0);
  const std::vector<float> rm0 = to_vector<float>(rm), rv0 = to_vector<float>(rv);
  Tensor save_mean = Tensor::empty({c}), save_invstd = Tensor::empty({c}), y = empty_like(x);
  cpu::batch_norm_forward(DType::f32, rows, c, x.data_ptr(), gamma.data<float>(),
                          beta.data<float>(), nullptr, false, true, 0.1f, 1e-5f, rm.data<float>(),
                          rv.data<float>(), save_mean.data<float>(), save_invstd.data<float>(),
                          y.data_ptr(), Stream{});
  std::vector<double> mu, m2;
  moments(test::values(x), rows, c, mu, m2);
  const std::vector<float> sm = to_vector<float>(save_mean), si = to_vector<float>(save_invstd);
  const std::vector<float> rm1 = to_vector<float>(rm), rv1 = to_vector<float>(rv);
  for (int64_t j = 0; j < c; ++j) {
    INFO("channel " << j);
    REQUIRE(sm[j] == static_cast<float>(mu[j]));
    REQUIRE(si[j] == Approx(1 / std::sqrt(m2[j] / rows + kEps)).epsilon(1e-6));
    // The running statistics follow PyTorch's rule exactly (f32 arithmetic).
    const float batch_var = static_cast<float>(m2[j] / (rows - 1));
    REQUIRE(rm1[j] == (1 - 0.1f) * rm0[j] + 0.1f * static_cast<float>(mu[j]));
    REQUIRE(rv1[j] == (1 - 0.1f) * rv0[j] + 0.1f * batch_var);
  }
}

TEST_CASE("batch_norm eval uses the running statistics and leaves them", "[kernels][batch_norm]") {
  const int64_t c = 5;
  const Tensor x = test::random_tensor({3, 2, 2, c}, DType::f32, 511);
  const Tensor gamma = param(c, 512, 0.5, 1.5), beta = param(c, 513, -0.5, 0.5);
  Tensor rm = param(c, 514, -0.5, 0.5), rv = param(c, 515, 0.5, 2.0);
  const std::vector<float> rm0 = to_vector<float>(rm), rv0 = to_vector<float>(rv);
  const Tensor y = batch_norm(x, gamma, beta, rm, rv, false);
  SIMCLR_REQUIRE_CLOSE(y, reference(x, gamma, beta, rm, rv, false, Tensor(), false),
                       (test::Tolerance{1e-5, 1e-6}));
  REQUIRE(to_vector<float>(rm) == rm0);
  REQUIRE(to_vector<float>(rv) == rv0);
  // Eval accepts one value per channel.
  Tensor rm1 = zeros({4}), rv1 = ones({4});
  const Tensor one =
      batch_norm(from_vector<float>({1, 2, 3, 4}, {1, 4}), ones({4}), zeros({4}), rm1, rv1, false);
  SIMCLR_REQUIRE_CLOSE(one, from_vector<double>({1, 2, 3, 4}, {1, 4}),
                       (test::Tolerance{1e-5, 1e-6}));
}

TEST_CASE("batch_norm running statistics follow PyTorch after one step", "[kernels][batch_norm]") {
  for (const Shape& shape : {Shape{8, 17}, Shape{2, 3, 3, 5}, Shape{2, 1, 1, 33}}) {
    INFO(shape.str());
    const int64_t c = shape[shape.ndim() - 1], rows = shape.numel() / c;
    const Tensor x = test::random_tensor(shape, DType::f32, 521, -1.0, 2.0);
    Tensor rm = param(c, 522, -0.5, 0.5), rv = param(c, 523, 0.5, 2.0);
    const std::vector<float> rm0 = to_vector<float>(rm), rv0 = to_vector<float>(rv);
    batch_norm(x, ones({c}), zeros({c}), rm, rv, true, 0.1);
    std::vector<double> mu, m2;
    moments(test::values(x), rows, c, mu, m2);
    const std::vector<float> rm1 = to_vector<float>(rm), rv1 = to_vector<float>(rv);
    for (int64_t j = 0; j < c; ++j) {
      INFO("channel " << j);
      REQUIRE(rm1[j] == (1 - 0.1f) * rm0[j] + 0.1f * static_cast<float>(mu[j]));
      REQUIRE(rv1[j] == (1 - 0.1f) * rv0[j] + 0.1f * static_cast<float>(m2[j] / (rows - 1)));
    }
  }
}

TEST_CASE("batch_norm matches the composition of existing ops", "[kernels][batch_norm]") {
  const std::vector<Shape> shapes{{2, 3, 3, 3},  {2, 1, 1, 17}, {4, 2, 3, 33},
                                  {3, 2, 2, 65}, {2, 5, 5, 16}, {6, 4}};
  uint64_t seed = 600;
  for (const Shape& shape : shapes) {
    for (const Mode& mode : all_modes()) {
      INFO(shape.str() << " " << describe(mode));
      const int64_t c = shape[shape.ndim() - 1];
      const Tensor x0 = test::random_tensor(shape, DType::f64, ++seed, -2.0, 2.0);
      const Tensor r0 = test::random_tensor(shape, DType::f64, ++seed);
      const Tensor g0 = param(c, ++seed, 0.5, 1.5), b0 = param(c, ++seed, -0.5, 0.5);
      const Tensor rm = param(c, ++seed, -0.5, 0.5), rv = param(c, ++seed, 0.5, 2.0);
      const Tensor w = test::random_tensor(shape, DType::f64, ++seed, 0.5, 1.5);

      // Ours: x, residual f64; gamma, beta f32 leaves.
      Tensor x = x0.detach(), r = r0.detach(), g = g0.detach(), b = b0.detach();
      for (Tensor* t : {&x, &r, &g, &b}) t->set_requires_grad(true);
      Tensor rm_a = clone(rm), rv_a = clone(rv);
      const Tensor y = batch_norm(x, g, b, rm_a, rv_a, mode.training, kMomentum, kEps,
                                  mode.residual ? r : Tensor(), mode.relu);
      sum(y * w).backward();

      // The composition: everything in f64.
      Tensor xr = x0.detach(), rr = r0.detach(), gr = to(g0, DType::f64), br = to(b0, DType::f64);
      for (Tensor* t : {&xr, &rr, &gr, &br}) t->set_requires_grad(true);
      const Tensor yr =
          reference(xr, gr, br, rm, rv, mode.training, mode.residual ? rr : Tensor(), mode.relu);
      sum(yr * w).backward();

      SIMCLR_REQUIRE_CLOSE(y, yr, (test::Tolerance{1e-10, 1e-10}));
      // The backward uses the f32 saved statistics: with two rows per channel grad_x is mostly
      // cancellation, and the f32 rounding of invstd shows at about 1e-5.
      const test::Tolerance grad_tol{1e-4, 1e-4};
      SIMCLR_REQUIRE_CLOSE(x.grad(), xr.grad(), grad_tol);
      SIMCLR_REQUIRE_CLOSE(g.grad(), gr.grad(), grad_tol);
      SIMCLR_REQUIRE_CLOSE(b.grad(), br.grad(), grad_tol);
      if (mode.residual) {
        SIMCLR_REQUIRE_CLOSE(r.grad(), rr.grad(), grad_tol);
      } else {
        REQUIRE_FALSE(r.grad().defined());
      }
      if (!mode.training) {
        REQUIRE(test::values(rm_a) == test::values(rm));
        REQUIRE(test::values(rv_a) == test::values(rv));
      }
    }
  }
}

TEST_CASE("batch_norm in f32 matches the f64 composition", "[kernels][batch_norm]") {
  const Tensor x = test::random_tensor({4, 3, 3, 33}, DType::f32, 701, -1.0, 3.0);
  const Tensor gamma = param(33, 702, -1.5, 1.5), beta = param(33, 703, -0.5, 0.5);
  Tensor rm = zeros({33}), rv = ones({33});
  const Tensor want = reference(to(x, DType::f64), gamma, beta, rm, rv, true, Tensor(), false);
  SIMCLR_REQUIRE_CLOSE(batch_norm(x, gamma, beta, rm, rv, true), want,
                       (test::Tolerance{1e-5, 2e-6}));
}

TEST_CASE("batch_norm in f32 at 16 to 128 channels over several row blocks",
          "[kernels][batch_norm]") {
  // The CPU kernel compiles these channel counts with a fixed inner trip count and cuts the rows
  // into blocks (1024 rows at 16 channels, 128 at 128): 2001 rows leave a short last block.
  uint64_t seed = 740;
  for (const int64_t c : {16, 32, 64, 128}) {
    for (const Mode& mode : all_modes()) {
      INFO(c << " channels, " << describe(mode));
      const Shape shape{3, 23, 29, c};
      const Tensor x0 = test::random_tensor(shape, DType::f32, ++seed, -2.0, 3.0);
      const Tensor r0 = test::random_tensor(shape, DType::f32, ++seed);
      const Tensor w = test::random_tensor(shape, DType::f64, ++seed, 0.5, 1.5);
      const Tensor g0 = param(c, ++seed, 0.5, 1.5), b0 = param(c, ++seed, -0.5, 0.5);
      const Tensor rm = param(c, ++seed, -0.5, 0.5), rv = param(c, ++seed, 0.5, 2.0);

      Tensor x = x0.detach(), r = r0.detach(), g = g0.detach(), b = b0.detach();
      for (Tensor* t : {&x, &r, &g, &b}) t->set_requires_grad(true);
      Tensor rm_a = clone(rm), rv_a = clone(rv);
      const Tensor y = batch_norm(x, g, b, rm_a, rv_a, mode.training, kMomentum, kEps,
                                  mode.residual ? r : Tensor(), mode.relu);
      sum(to(y, DType::f64) * w).backward();

      Tensor xr = to(x0, DType::f64), rr = to(r0, DType::f64);
      Tensor gr = to(g0, DType::f64), br = to(b0, DType::f64);
      for (Tensor* t : {&xr, &rr, &gr, &br}) t->set_requires_grad(true);
      const Tensor yr =
          reference(xr, gr, br, rm, rv, mode.training, mode.residual ? rr : Tensor(), mode.relu);
      sum(yr * w).backward();

      SIMCLR_REQUIRE_CLOSE(y, yr, (test::Tolerance{1e-5, 1e-5}));
      const test::Tolerance grad_tol{1e-4, 1e-4};
      SIMCLR_REQUIRE_CLOSE(x.grad(), xr.grad(), grad_tol);
      SIMCLR_REQUIRE_CLOSE(g.grad(), gr.grad(), test::scaled(grad_tol, gr.grad()));
      SIMCLR_REQUIRE_CLOSE(b.grad(), br.grad(), test::scaled(grad_tol, br.grad()));
      if (mode.residual) SIMCLR_REQUIRE_CLOSE(r.grad(), rr.grad(), grad_tol);
    }
  }
}

TEST_CASE("batch_norm in bf16 and f16 widens to f32", "[kernels][batch_norm]") {
  for (const DType dtype : {DType::bf16, DType::f16}) {
    INFO(dtype_name(dtype));
    const Tensor x = to(test::random_tensor({4, 5, 5, 17}, DType::f32, 711, -1.0, 3.0), dtype);
    const Tensor residual = to(test::random_tensor({4, 5, 5, 17}, DType::f32, 712), dtype);
    const Tensor gamma = param(17, 713, 0.5, 1.5), beta = param(17, 714, -0.5, 0.5);
    Tensor rm = zeros({17}), rv = ones({17}), rm32 = zeros({17}), rv32 = ones({17});
    const Tensor y = batch_norm(x, gamma, beta, rm, rv, true, 0.1, 1e-5, residual, true);
    REQUIRE(y.dtype() == dtype);
    // The same values widened to f32 give the same statistics: the results differ by the final
    // rounding only.
    const Tensor y32 = batch_norm(to(x, DType::f32), gamma, beta, rm32, rv32, true, 0.1, 1e-5,
                                  to(residual, DType::f32), true);
    SIMCLR_REQUIRE_CLOSE(y, y32, test::tolerance_for(dtype));
    SIMCLR_REQUIRE_CLOSE(rm, rm32, (test::Tolerance{0, 0}));
    SIMCLR_REQUIRE_CLOSE(rv, rv32, (test::Tolerance{0, 0}));
  }
}

TEST_CASE("batch_norm rejects one value per channel when training", "[kernels][batch_norm]") {
  Tensor rm = zeros({4}), rv = ones({4});
  const Tensor x = from_vector<float>({1, 2, 3, 4}, {1, 4});
  try {
    batch_norm(x, ones({4}), zeros({4}), rm, rv, true);
    FAIL("batch_norm accepted one value per channel");
  } catch (const Error& e) {
    REQUIRE(e.message() ==
            "batch_norm: expected more than 1 value per channel when training, got input [1, 4]");
  }
  REQUIRE_THROWS_WITH(batch_norm(ones({1, 1, 1, 4}), ones({4}), zeros({4}), rm, rv, true),
                      Catch::Contains("got input [1, 1, 1, 4]"));
}

TEST_CASE("batch_norm checks its arguments", "[kernels][batch_norm]") {
  const Tensor x = test::random_tensor({4, 3}, DType::f32, 721);
  Tensor rm = zeros({3}), rv = ones({3});
  const Tensor g = ones({3}), b = zeros({3});
  REQUIRE_THROWS_WITH(batch_norm(ones({3}), g, b, rm, rv, true), Catch::Contains("channels last"));
  REQUIRE_THROWS_WITH(batch_norm(ones({4, 3}, DType::i32), g, b, rm, rv, true),
                      Catch::Contains("floating"));
  REQUIRE_THROWS_WITH(batch_norm(x, ones({4}), b, rm, rv, true),
                      Catch::Contains("gamma (weight) to be an f32 tensor [3]"));
  REQUIRE_THROWS_WITH(batch_norm(x, g, zeros({3}, DType::f64), rm, rv, true),
                      Catch::Contains("beta (bias)"));
  Tensor rm64 = zeros({3}, DType::f64);
  REQUIRE_THROWS_WITH(batch_norm(x, g, b, rm64, rv, true), Catch::Contains("running_mean"));
  Tensor undefined;
  REQUIRE_THROWS_WITH(batch_norm(x, g, b, rm, undefined, true),
                      Catch::Contains("running_var is undefined"));
  Tensor rv_grad = ones({3});
  rv_grad.set_requires_grad(true);
  REQUIRE_THROWS_WITH(batch_norm(x, g, b, rm, rv_grad, true),
                      Catch::Contains("do not require grad"));
  REQUIRE_THROWS_WITH(batch_norm(x, g, b, rm, rv, true, 0.1, 1e-5, ones({4, 3}, DType::f64)),
                      Catch::Contains("residual to match"));
  REQUIRE_THROWS_WITH(batch_norm(x, g, b, rm, rv, true, 0.1, 1e-5, ones({3, 3})),
                      Catch::Contains("residual to match"));
}

TEST_CASE("batch_norm accepts strided inputs and parameters", "[kernels][batch_norm]") {
  const Tensor wide = test::random_tensor({6, 10}, DType::f32, 731);
  const Tensor x = slice(wide, 1, 0, 10, 2);  // [6, 5], not contiguous
  const Tensor gamma = slice(param(10, 732, 0.5, 1.5), 0, 1, 10, 2);
  const Tensor beta = param(5, 733, -0.5, 0.5);
  Tensor rm = zeros({5}), rv = ones({5}), rm2 = zeros({5}), rv2 = ones({5});
  SIMCLR_REQUIRE_CLOSE(batch_norm(x, gamma, beta, rm, rv, true),
                       batch_norm(contiguous(x), contiguous(gamma), beta, rm2, rv2, true),
                       (test::Tolerance{0, 0}));
}

TEST_CASE("gradcheck batch_norm", "[kernels][batch_norm][gradcheck]") {
  const std::vector<Shape> shapes{{2, 2, 3, 3}, {2, 1, 1, 17}, {3, 2, 2, 33}, {2, 1, 2, 65}};
  uint64_t seed = 800;
  for (const Shape& shape : shapes) {
    for (const Mode& mode : all_modes()) {
      INFO(shape.str() << " " << describe(mode));
      const int64_t c = shape[shape.ndim() - 1];
      const Tensor x = test::random_tensor(shape, DType::f64, ++seed, -2.0, 2.0);
      const Tensor residual =
          mode.residual ? test::random_tensor(shape, DType::f64, ++seed) : Tensor();
      const Tensor gamma = param(c, ++seed, 0.5, 1.5);
      const Tensor rm = param(c, ++seed, -0.5, 0.5), rv = param(c, ++seed, 0.5, 2.0);
      // ReLU forms: every pre-activation at least 0.05 from the kink.
      const Tensor beta = mode.relu ? safe_beta(x, gamma, rm, rv, mode.training, residual, 0.05)
                                    : param(c, ++seed, -0.5, 0.5);
      const bool training = mode.training, relu = mode.relu, has_residual = mode.residual;

      // x and residual (f64) with the f32 parameters fixed.
      std::vector<Tensor> inputs{x};
      if (has_residual) inputs.push_back(residual);
      check_gradcheck(gradcheck(
          [=](const std::vector<Tensor>& in) {
            Tensor m = clone(rm), v = clone(rv);
            return batch_norm(in[0], gamma, beta, m, v, training, kMomentum, kEps,
                              has_residual ? in[1] : Tensor(), relu);
          },
          inputs));

      // gamma and beta, through an f32 cast: y is linear in them, so a large step is exact up to
      // the f32 rounding of the perturbed values.
      check_gradcheck(gradcheck(
          [=](const std::vector<Tensor>& in) {
            Tensor m = clone(rm), v = clone(rv);
            return batch_norm(x, to(in[0], DType::f32), to(in[1], DType::f32), m, v, training,
                              kMomentum, kEps, residual, relu);
          },
          {to(gamma, DType::f64), to(beta, DType::f64)}, GradcheckOptions{.eps = 1e-2}));
    }
  }
}
