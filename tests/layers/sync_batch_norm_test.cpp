// SyncBatchNorm on one process: with the identity as the statistics all-reduce, BatchNorm's
// composed training forward matches the fused batch_norm kernel (outputs, gradients of the input,
// residual, gamma and beta, running statistics) within rounding, in f32 and f64, plain and in the
// fused ReLU / residual forms, and in f64 an exact double-precision reference within 1e-10;
// enable_sync_batch_norm reaches every BatchNorm of a tree.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "layers/batch_norm.h"
#include "layers/resnet.h"
#include "test_util.h"

namespace simclr {
namespace {

struct Leaves {
  Tensor x, residual;
};

Leaves make_leaves(const Shape& shape, DType dtype, bool with_residual) {
  Leaves l;
  l.x = test::random_tensor(shape, dtype, 21, -2.0, 3.0);  // a mean away from zero
  l.x.set_requires_grad(true);
  if (with_residual) {
    l.residual = test::random_tensor(shape, dtype, 22);
    l.residual.set_requires_grad(true);
  }
  return l;
}

// Training-mode batch norm forward and backward in double with plain loops. The f64 path is held
// to it: the fused kernel saves its statistics for backward in f32, so its f64 gradients are only
// f32-accurate.
struct Exact {
  std::vector<double> y, grad_x, grad_residual;
};

Exact exact_batch_norm(const Tensor& x, const Tensor& residual, const Tensor& gamma,
                       const Tensor& beta, const Tensor& grad_y, bool relu, double eps) {
  const std::vector<double> xs = test::values(x), dy = test::values(grad_y);
  const std::vector<double> gs = test::values(gamma), bs = test::values(beta);
  const std::vector<double> rs =
      residual.defined() ? test::values(residual) : std::vector<double>(xs.size(), 0.0);
  const size_t c = gs.size(), rows = xs.size() / c;
  std::vector<double> mean(c, 0.0), var(c, 0.0), sum_g(c, 0.0), sum_g_xhat(c, 0.0);
  for (size_t i = 0; i < xs.size(); ++i) mean[i % c] += xs[i] / static_cast<double>(rows);
  for (size_t i = 0; i < xs.size(); ++i)
    var[i % c] += (xs[i] - mean[i % c]) * (xs[i] - mean[i % c]) / static_cast<double>(rows);
  Exact e{std::vector<double>(xs.size()), std::vector<double>(xs.size()),
          std::vector<double>(xs.size())};
  std::vector<double> xhat(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    const size_t k = i % c;
    xhat[i] = (xs[i] - mean[k]) / std::sqrt(var[k] + eps);
    const double pre = xhat[i] * gs[k] + bs[k] + rs[i];
    e.y[i] = relu ? std::max(pre, 0.0) : pre;
    e.grad_residual[i] = relu && pre <= 0 ? 0.0 : dy[i];
    sum_g[k] += e.grad_residual[i];
    sum_g_xhat[k] += e.grad_residual[i] * xhat[i];
  }
  for (size_t i = 0; i < xs.size(); ++i) {
    const size_t k = i % c;
    const double n = static_cast<double>(rows);
    e.grad_x[i] = gs[k] / std::sqrt(var[k] + eps) *
                  (e.grad_residual[i] - sum_g[k] / n - xhat[i] * sum_g_xhat[k] / n);
  }
  return e;
}

// |a - b| <= tol (scaled by the reference's largest magnitude) element-wise.
bool close(const Tensor& a, const std::vector<double>& b, double tol) {
  const std::vector<double> got = test::values(a);
  double largest = 1.0;
  for (double v : b) largest = std::max(largest, std::abs(v));
  for (size_t i = 0; i < b.size(); ++i)
    if (!(std::abs(got[i] - b[i]) <= tol * largest)) return false;
  return got.size() == b.size();
}

void randomize(BatchNorm& bn, int64_t c) {
  NoGradGuard no_grad;
  copy_(bn.weight(), test::random_tensor({c}, DType::f32, 11, 0.5, 1.5));
  copy_(bn.bias(), test::random_tensor({c}, DType::f32, 12));
  copy_(bn.running_mean(), test::random_tensor({c}, DType::f32, 13));
  copy_(bn.running_var(), test::random_tensor({c}, DType::f32, 14, 0.5, 2.0));
}

void check_identity(DType dtype, const Shape& shape, bool with_residual, bool relu,
                    test::Tolerance tol) {
  INFO(dtype_name(dtype) << " " << shape.str() << (with_residual ? " +residual" : "")
                         << (relu ? " relu" : ""));
  const int64_t c = shape[shape.ndim() - 1];
  BatchNorm plain(c, shape.ndim()), synced(c, shape.ndim());
  randomize(plain, c);
  randomize(synced, c);
  int calls = 0;
  synced.set_sync([&](const Tensor& stats) {
    ++calls;
    CHECK(stats.shape() == Shape({3, c}));
    return stats;
  });
  REQUIRE(synced.is_sync());
  const Leaves a = make_leaves(shape, dtype, with_residual);
  const Leaves b = make_leaves(shape, dtype, with_residual);
  const Tensor y_plain = plain.forward(a.x, a.residual, relu);
  const Tensor y_sync = synced.forward(b.x, b.residual, relu);
  CHECK(calls == 1);
  const Tensor grad_y = test::random_tensor(shape, dtype, 23);
  sum(mul(y_plain, grad_y)).backward();
  sum(mul(y_sync, grad_y)).backward();

  // Gradients of the fused kernel are f32-accurate in both dtypes.
  const test::Tolerance f32 = test::tolerance_for(DType::f32);
  SIMCLR_REQUIRE_CLOSE(y_sync, y_plain, test::scaled(tol, y_plain));
  SIMCLR_REQUIRE_CLOSE(b.x.grad(), a.x.grad(), test::scaled(f32, a.x.grad()));
  if (with_residual)
    SIMCLR_REQUIRE_CLOSE(b.residual.grad(), a.residual.grad(),
                         test::scaled(f32, a.residual.grad()));
  if (dtype == DType::f64) {
    const Exact e =
        exact_batch_norm(b.x, b.residual, synced.weight(), synced.bias(), grad_y, relu, 1e-5);
    CHECK(close(y_sync, e.y, 1e-12));
    CHECK(close(b.x.grad(), e.grad_x, 1e-10));
    if (with_residual) CHECK(close(b.residual.grad(), e.grad_residual, 1e-12));
  }
  SIMCLR_REQUIRE_CLOSE(synced.weight().grad(), plain.weight().grad(),
                       test::scaled(f32, plain.weight().grad()));
  SIMCLR_REQUIRE_CLOSE(synced.bias().grad(), plain.bias().grad(),
                       test::scaled(f32, plain.bias().grad()));
  SIMCLR_REQUIRE_CLOSE(synced.running_mean(), plain.running_mean(), (test::Tolerance{1e-6, 1e-7}));
  SIMCLR_REQUIRE_CLOSE(synced.running_var(), plain.running_var(), (test::Tolerance{1e-6, 1e-7}));
  CHECK(synced.num_batches_tracked() == 1);

  // Eval uses the running statistics and never calls the function.
  synced.eval();
  plain.eval();
  NoGradGuard no_grad;
  SIMCLR_REQUIRE_CLOSE(synced.forward(b.x, b.residual, relu), plain.forward(a.x, a.residual, relu),
                       test::scaled(tol, y_plain));
  CHECK(calls == 1);
}

TEST_CASE("SyncBatchNorm with the identity all-reduce equals BatchNorm (f32 and f64)", "[layers]") {
  for (const bool residual : {false, true}) {
    for (const bool relu : {false, true}) {
      check_identity(DType::f64, {3, 5, 4, 7}, residual, relu, {1e-10, 1e-12});
      check_identity(DType::f64, {13, 6}, residual, relu, {1e-10, 1e-12});
      check_identity(DType::f32, {3, 5, 4, 7}, residual, relu, {1e-5, 1e-6});
      check_identity(DType::f32, {13, 6}, residual, relu, {1e-5, 1e-6});
    }
  }
}

TEST_CASE("SyncBatchNorm: a statistics function of the wrong shape is caught", "[layers]") {
  BatchNorm bn(4, 2);
  bn.set_sync([](const Tensor& stats) { return slice(stats, 0, 0, 2); });
  const Tensor x = test::random_tensor({5, 4}, DType::f32, 3);
  CHECK_THROWS_WITH(bn.forward(x), Catch::Contains("statistics all-reduce returned"));
  bn.set_sync(nullptr);
  CHECK_FALSE(bn.is_sync());
  CHECK(bn.forward(x).shape() == x.shape());
}

TEST_CASE("enable_sync_batch_norm reaches every BatchNorm of a ResNet", "[layers]") {
  ResNetConfig config;
  config.base_width = 4;
  ResNet model(config);
  int64_t bns = 0, synced = 0;
  auto count = [&] {
    bns = synced = 0;
    for (const auto& entry : model.named_modules()) {
      if (auto* bn = dynamic_cast<BatchNorm*>(entry.second)) {
        ++bns;
        synced += bn->is_sync() ? 1 : 0;
      }
    }
  };
  enable_sync_batch_norm(model, [](const Tensor& stats) { return stats; });
  count();
  CHECK(bns == 20);  // ResNet-18: stem, 2 per basic block (8 blocks), 3 downsample shortcuts
  CHECK(synced == bns);
  enable_sync_batch_norm(model, nullptr);
  count();
  CHECK(synced == 0);
}

}  // namespace
}  // namespace simclr
