// nt_xent on the CPU reference: hand-computed tiny cases, the PyTorch fixture
// (tests/data/make_nt_xent_fixture.py), gradcheck, the options, the fused normalization against
// the composed one (and its per-row math, kernels/nt_xent_math.h), the TF32 switch, the
// distributed row-range form against the single-rank loss and gradient, and argument errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/safetensors.h"
#include "kernels/gradcheck.h"
#include "kernels/nt_xent.h"
#include "kernels/nt_xent_math.h"
#include "kernels/ops.h"
#include "test_util.h"

using namespace simclr;

namespace {

constexpr test::Tolerance kExact{1e-12, 1e-12};

// The gradient of nt_xent(z, tau, normalize) with respect to z, by autograd.
Tensor loss_grad(const Tensor& z, double tau, bool normalize, Tensor* loss = nullptr) {
  Tensor x = z.detach();
  x.set_requires_grad(true);
  const Tensor l = nt_xent(x, tau, normalize);
  l.backward();
  if (loss != nullptr) *loss = l.detach();
  return x.grad();
}

// The same through the composed normalization (nt_xent_normalize, autograd through norm, maximum
// and div) and the unnormalized kernels.
Tensor composed_grad(const Tensor& z, double tau, Tensor* loss) {
  Tensor x = z.detach();
  x.set_requires_grad(true);
  const Tensor l = nt_xent(nt_xent_normalize(x), tau, false);
  l.backward();
  *loss = l.detach();
  return x.grad();
}

// Random rows with norms spread over four decades, so that normalizing matters.
Tensor spread_rows(int64_t m, int64_t d, DType dtype, uint64_t seed) {
  const Tensor scales = exp(test::random_tensor({m, 1}, DType::f64, seed + 1, -4.6, 4.6));
  return to(mul(test::random_tensor({m, d}, DType::f64, seed), scales), dtype);
}

}  // namespace

TEST_CASE("nt_xent of two rows is zero with a zero gradient", "[kernels][nt_xent]") {
  // m = 2: the partner is the only other row, so lse_i = s_{i,pos(i)} and every loss is 0.
  const Tensor z = from_vector<double>({0.3, -1.2, 0.5, 2.0, 0.7, -0.1}, {2, 3});
  Tensor loss;
  const Tensor grad = loss_grad(z, 0.7, false, &loss);
  REQUIRE(loss.shape() == Shape{});
  REQUIRE(std::abs(item(loss)) < 1e-12);
  SIMCLR_REQUIRE_CLOSE(grad, zeros({2, 3}, DType::f64), kExact);
}

TEST_CASE("nt_xent of four unit rows matches the hand-computed value", "[kernels][nt_xent]") {
  // Rows 0 and 2, 1 and 3 are pairs. With tau = 1:
  //   s01 = 0, s02 = 0.6, s03 = -0.8, s12 = 0.8, s13 = 0.6, s23 = 0.
  const Tensor z = from_vector<double>({1, 0, 0, 1, 0.6, 0.8, -0.8, 0.6}, {4, 2});
  for (const double tau : {1.0, 0.5}) {
    const auto e = [tau](double s) { return std::exp(s / tau); };
    const double l0 = std::log(e(0) + e(0.6) + e(-0.8)) - 0.6 / tau;
    const double l1 = std::log(e(0) + e(0.8) + e(0.6)) - 0.6 / tau;
    const double l2 = std::log(e(0.6) + e(0.8) + e(0)) - 0.6 / tau;
    const double l3 = std::log(e(-0.8) + e(0.6) + e(0)) - 0.6 / tau;
    const double expected = (l0 + l1 + l2 + l3) / 4;
    INFO("tau " << tau);
    // The rows are unit vectors, so normalizing changes nothing.
    REQUIRE(item(nt_xent(z, tau, false)) == Approx(expected).epsilon(1e-12));
    REQUIRE(item(nt_xent(z, tau, true)) == Approx(expected).epsilon(1e-12));
    // Scaling the rows changes the raw loss but not the normalized one.
    REQUIRE(item(nt_xent(mul(z, 3.0), tau, true)) == Approx(expected).epsilon(1e-12));
    REQUIRE(std::abs(item(nt_xent(mul(z, 3.0), tau, false)) - expected) > 1e-3);
    const NtXentRows rows = nt_xent_rows_forward(z, 0, 4, tau);
    SIMCLR_REQUIRE_CLOSE(rows.loss, from_vector<double>({l0, l1, l2, l3}, {4}), kExact);
    SIMCLR_REQUIRE_CLOSE(
        rows.lse,
        from_vector<double>({l0 + 0.6 / tau, l1 + 0.6 / tau, l2 + 0.6 / tau, l3 + 0.6 / tau}, {4}),
        kExact);
  }
}

TEST_CASE("nt_xent matches PyTorch's standard implementation", "[kernels][nt_xent]") {
  const SafetensorsData data =
      load_safetensors(std::string(SIMCLR_TEST_DATA_DIR) + "/nt_xent.safetensors");
  const Tensor z = *data.find("z");
  REQUIRE(z.shape() == Shape{12, 7});
  struct Case {
    std::string suffix;
    double tau;
    bool normalize;
  };
  for (const Case& c : {Case{"", 0.5, true}, Case{".raw", 0.2, false}}) {
    INFO("fixture loss" << c.suffix);
    for (const DType dtype : {DType::f64, DType::f32}) {
      INFO(dtype_name(dtype));
      const test::Tolerance tol =
          dtype == DType::f64 ? test::Tolerance{1e-10, 1e-12} : test::Tolerance{1e-4, 1e-5};
      Tensor loss;
      const Tensor grad = loss_grad(to(z, dtype), c.tau, c.normalize, &loss);
      REQUIRE(loss.dtype() == dtype);
      SIMCLR_REQUIRE_CLOSE(reshape(loss, {1}), reshape(*data.find("loss" + c.suffix), {1}), tol);
      SIMCLR_REQUIRE_CLOSE(grad, to(*data.find("grad" + c.suffix), dtype), tol);
    }
  }
}

TEST_CASE("nt_xent passes gradcheck", "[kernels][nt_xent]") {
  const Tensor z = test::random_tensor({6, 5}, DType::f64, 4401);
  for (const bool normalize : {true, false}) {
    for (const double tau : {0.3, 1.0}) {
      INFO("normalize " << normalize << " tau " << tau);
      const GradcheckResult r = gradcheck(
          [=](const std::vector<Tensor>& in) { return nt_xent(in[0], tau, normalize); }, {z});
      INFO(r.message);
      REQUIRE(r.ok);
    }
  }
}

TEST_CASE("nt_xent's fused normalization equals the composed one", "[kernels][nt_xent]") {
  struct Size {
    int64_t m, d;
  };
  uint64_t seed = 4410;
  for (const DType dtype : {DType::f64, DType::f32}) {
    // f32: the composed path rounds zhat to f32 before the fp64 reference kernels; the fused one
    // scales in fp64 (the inverse norms themselves are f32 for both).
    const test::Tolerance tol = dtype == DType::f64 ? kExact : test::Tolerance{1e-5, 1e-6};
    for (const Size s : {Size{2, 3}, Size{6, 5}, Size{14, 17}, Size{40, 33}}) {
      // At m = 2 the gradient is zero, and in f32 both sides are rounding noise (the log-sum-exps
      // are stored in f32): only f64 compares it.
      if (dtype == DType::f32 && s.m == 2) continue;
      for (const double tau : {0.07, 0.5}) {
        INFO(dtype_name(dtype) << " m " << s.m << " d " << s.d << " tau " << tau);
        const Tensor z = spread_rows(s.m, s.d, dtype, seed += 2);
        Tensor loss, want_loss;
        const Tensor grad = loss_grad(z, tau, true, &loss);
        const Tensor want = composed_grad(z, tau, &want_loss);
        REQUIRE(loss.dtype() == dtype);
        SIMCLR_REQUIRE_CLOSE(reshape(loss, {1}), reshape(want_loss, {1}), tol);
        SIMCLR_REQUIRE_CLOSE(grad, want, test::scaled(tol, want));
      }
    }
  }
}

TEST_CASE("nt_xent's fused normalization clamps tiny norms as F.normalize does",
          "[kernels][nt_xent]") {
  // Row 3's norm is below eps = 1e-12: zhat_3 = z_3 / eps and the norm gets no gradient.
  Tensor z = spread_rows(8, 6, DType::f64, 4420);
  z = mul(z, from_vector<double>({1, 1, 1, 1e-14 / 7, 1, 1, 1, 1}, {8, 1}));
  Tensor loss, want_loss;
  const Tensor grad = loss_grad(z, 0.2, true, &loss);
  const Tensor want = composed_grad(z, 0.2, &want_loss);
  REQUIRE(item(loss) == Approx(item(want_loss)).epsilon(1e-12));
  SIMCLR_REQUIRE_CLOSE(grad, want, test::scaled(kExact, want));
}

TEST_CASE("nt_xent_math's per-row pieces", "[kernels][nt_xent]") {
  namespace nm = nt_xent_math;
  REQUIRE(nm::inv_norm(4.0) == 0.5);
  REQUIRE(nm::inv_norm(0.0) == 1e12);
  REQUIRE(nm::inv_norm(1e-30) == 1e12);
  REQUIRE(nm::inv_norm(0.25f) == 2.0f);
  REQUIRE(nm::radial(0.5, 2.0, 3.0, 1.0, nm::inv_norm(0.0)) == 0.0);
  REQUIRE(nm::radial(0.5, 2.0, 3.0, 1.0, 0.1) == Approx(0.25));
  // grad projects out the row's own direction: with ghat = scale (g - 2 zhat_pos) and
  // radial = zhat . ghat, the result is orthogonal to zhat.
  const std::vector<double> zhat{0.6, 0.0, -0.8}, g{1.5, -2.0, 0.3}, zpos{0.0, 1.0, 0.0};
  const double scale = 0.7, inv_k = 0.25;
  double radial = 0, dot = 0;
  for (int c = 0; c < 3; ++c) radial += zhat[c] * scale * (g[c] - 2 * zpos[c]);
  for (int c = 0; c < 3; ++c) {
    const double out = nm::grad(scale, g[c], zpos[c], zhat[c], inv_k, radial);
    REQUIRE(out == Approx(inv_k * (scale * (g[c] - 2 * zpos[c]) - zhat[c] * radial)));
    dot += out * zhat[c];
  }
  REQUIRE(std::abs(dot) < 1e-15);
  // Without normalization (inv_k = 1, radial = 0) it is the plain gradient.
  REQUIRE(nm::grad(0.5, 3.0, 1.0, 9.0, 1.0, 0.0) == 0.5);
}

TEST_CASE("nt_xent's TF32 switch leaves the CPU reference unchanged", "[kernels][nt_xent]") {
  const Tensor z = spread_rows(10, 7, DType::f32, 4430);
  Tensor want_loss;
  const Tensor want = loss_grad(z, 0.3, true, &want_loss);
  for (const bool on : {true, false}) {
    const NtXentTf32Guard scope(on);
    REQUIRE(nt_xent_tf32() == on);
    Tensor loss;
    const Tensor grad = loss_grad(z, 0.3, true, &loss);
    REQUIRE(item(loss) == item(want_loss));
    SIMCLR_REQUIRE_CLOSE(grad, want, (test::Tolerance{0, 0}));
  }
}

TEST_CASE("nt_xent's bf16 and f16 forms follow f32", "[kernels][nt_xent]") {
  const Tensor z = test::random_tensor({10, 16}, DType::f32, 4402);
  const Tensor want = loss_grad(z, 0.2, true);
  for (const DType dtype : {DType::bf16, DType::f16}) {
    INFO(dtype_name(dtype));
    Tensor loss, want_loss;
    const Tensor got = loss_grad(to(z, dtype), 0.2, true, &loss);
    loss_grad(z, 0.2, true, &want_loss);
    REQUIRE(loss.dtype() == DType::f32);
    REQUIRE(got.dtype() == dtype);
    REQUIRE(item(loss) == Approx(item(want_loss)).epsilon(2e-2));
    SIMCLR_REQUIRE_CLOSE(to(got, DType::f32), want, (test::Tolerance{5e-2, 5e-3}));
  }
}

TEST_CASE("nt_xent split over simulated ranks equals one rank", "[kernels][nt_xent]") {
  const int64_t m = 12;
  const double tau = 0.25;
  const Tensor z = nt_xent_normalize(test::random_tensor({m, 7}, DType::f64, 4403));
  Tensor loss;
  const Tensor grad = loss_grad(z, tau, false, &loss);
  for (const int ranks : {1, 2, 3}) {
    INFO(ranks << " ranks");
    std::vector<int64_t> bounds;
    for (int r = 0; r <= ranks; ++r) bounds.push_back(m * r / ranks);
    // Forward on each rank's rows, then the "all-gather" of lse and the "all-reduce" of losses.
    std::vector<double> lse_all, loss_rows;
    double total = 0;
    for (int r = 0; r < ranks; ++r) {
      const NtXentRows part = nt_xent_rows_forward(z, bounds[r], bounds[r + 1] - bounds[r], tau);
      REQUIRE(part.loss.shape() == Shape{bounds[r + 1] - bounds[r]});
      for (double v : test::values(part.lse)) lse_all.push_back(v);
      total += item(part.loss_sum());
    }
    REQUIRE(total / m == Approx(item(loss)).epsilon(1e-12));
    const Tensor lse = from_vector(lse_all, {m});
    for (int r = 0; r < ranks; ++r) {
      const Tensor g =
          nt_xent_rows_backward(z, lse, bounds[r], bounds[r + 1] - bounds[r], tau, 1.0 / m);
      SIMCLR_REQUIRE_CLOSE(g, slice(grad, 0, bounds[r], bounds[r + 1]), kExact);
    }
  }
  // A rank owning samples [a, b) holds two ranges, [a, b) and [N + a, N + b).
  const NtXentRows all = nt_xent_rows_forward(z, 0, m, tau);
  const Tensor g1 = nt_xent_rows_backward(z, all.lse, 2, 3, tau, 1.0 / m);
  const Tensor g2 = nt_xent_rows_backward(z, all.lse, 8, 3, tau, 1.0 / m);
  SIMCLR_REQUIRE_CLOSE(g1, slice(grad, 0, 2, 5), kExact);
  SIMCLR_REQUIRE_CLOSE(g2, slice(grad, 0, 8, 11), kExact);
  // The normalization's gradient then flows through the rank's own rows by autograd.
  const Tensor raw = test::random_tensor({m, 7}, DType::f64, 4404);
  const Tensor want = loss_grad(raw, tau, true);
  Tensor x = raw.detach();
  x.set_requires_grad(true);
  const Tensor zn = nt_xent_normalize(x);
  const NtXentRows f = nt_xent_rows_forward(zn, 0, m, tau);
  zn.backward(nt_xent_rows_backward(zn, f.lse, 0, m, tau, 1.0 / m));
  SIMCLR_REQUIRE_CLOSE(x.grad(), want, kExact);
}

TEST_CASE("nt_xent refuses bad arguments with clear errors", "[kernels][nt_xent]") {
  const auto message = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const Error& e) {
      return e.message();
    }
    return std::string("no error");
  };
  const Tensor z = test::random_tensor({6, 4}, DType::f32, 4405);
  REQUIRE_THAT(message([] {
                 nt_xent(zeros({5, 4}), 0.5);
               }),
               Catch::Contains("even number of rows") && Catch::Contains("[5, 4]"));
  REQUIRE_THAT(message([] { nt_xent(zeros({0, 4}), 0.5); }), Catch::Contains("m >= 2"));
  REQUIRE_THAT(message([] { nt_xent(zeros({6}), 0.5); }), Catch::Contains("2-D"));
  REQUIRE_THAT(message([] { nt_xent(zeros({2, 3, 4}), 0.5); }), Catch::Contains("2-D"));
  REQUIRE_THAT(message([&] { nt_xent(z, 0.0); }), Catch::Contains("positive temperature"));
  REQUIRE_THAT(message([] {
                 nt_xent(zeros({6, 4}, DType::i32), 0.5);
               }),
               Catch::Contains("floating"));
  REQUIRE_THAT(message([&] { nt_xent_rows_forward(z, 4, 3, 0.5); }), Catch::Contains("not within"));
  REQUIRE_THAT(message([&] { nt_xent_rows_backward(z, zeros({5}), 0, 6, 0.5, 1.0); }),
               Catch::Contains("lse of shape [6]"));
}
