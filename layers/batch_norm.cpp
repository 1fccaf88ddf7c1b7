// BatchNorm: the module around the fused batch_norm op, and SyncBatchNorm's training forward,
// composed of differentiable ops.
#include "layers/batch_norm.h"

namespace simclr {

namespace {

// [3, c] with rows a, b and c, differentiable in a and b. The ops have no concatenation, so each
// row is placed by a broadcast product with a one-hot column: x * 1 + 0 keeps x's bits.
Tensor stack3(const Tensor& a, const Tensor& b, const Tensor& c) {
  auto placed = [](const Tensor& row, int64_t at) {
    // Filled on the device: no host-to-device copy in a training step.
    const Tensor one_hot = zeros({3, 1}, row.dtype(), row.device());
    Tensor one = slice(one_hot, 0, at, at + 1);
    fill_(one, 1.0);
    return mul(unsqueeze(row, 0), one_hot);
  };
  return add(add(placed(a, 0), placed(b, 1)), placed(c, 2));
}

Tensor row_of(const Tensor& t, int64_t row) {
  return reshape(slice(t, 0, row, row + 1), {t.size(1)});
}

}  // namespace

BatchNorm::BatchNorm(int64_t channels, int rank, double eps, double momentum)
    : channels_(channels), rank_(rank), eps_(eps), momentum_(momentum) {
  SIMCLR_CHECK(channels > 0 && (rank == 2 || rank == 4),
               "BatchNorm: expected channels > 0 and rank 2 or 4, got ", channels, " and ", rank);
  weight_ = register_parameter("weight", ones({channels}), false);
  bias_ = register_parameter("bias", zeros({channels}), false);
  running_mean_ = register_buffer("running_mean", zeros({channels}));
  running_var_ = register_buffer("running_var", ones({channels}));
  // PyTorch keeps this counter in its state dict; it stays on the host.
  num_batches_ = register_buffer("num_batches_tracked", zeros({}, DType::i64), true);
}

Tensor BatchNorm::forward(const Tensor& x, const Tensor& residual, bool relu) {
  SIMCLR_CHECK(x.ndim() == rank_ && x.size(-1) == channels_, name(), ": expected input [",
               rank_ == 2 ? "n, " : "n, h, w, ", channels_, "], got ", x.shape().str());
  if (is_training()) ++num_batches_->value.data<int64_t>()[0];
  if (is_training() && sync_) return sync_forward(x, residual, relu);
  return batch_norm(x, weight_->value, bias_->value, running_mean_->value, running_var_->value,
                    is_training(), momentum_, eps_, residual, relu);
}

// The statistics in f32 (f64 for f64 inputs), as the fused kernel. The biased variance
// normalizes, the unbiased one goes into the running estimate (PyTorch's rule); the row count
// travels with the sums, so ranks may hold different numbers of rows.
Tensor BatchNorm::sync_forward(const Tensor& x, const Tensor& residual, bool relu) {
  SIMCLR_CHECK(
      !residual.defined() || (residual.shape() == x.shape() && residual.dtype() == x.dtype() &&
                              residual.device() == x.device()),
      name(), ": expected the residual to match the input ", x.str(), ", got ", residual.str());
  const DType acc = x.dtype() == DType::f64 ? DType::f64 : DType::f32;
  const int64_t rows = x.numel() / channels_;
  const Tensor x2 = reshape(simclr::to(x, acc), {rows, channels_});
  const Tensor local = stack3(sum(x2, {0}), sum(square(x2), {0}),
                              full({channels_}, static_cast<double>(rows), acc, x.device()));
  const Tensor global = sync_(local);
  SIMCLR_CHECK(global.defined() && global.shape() == local.shape() &&
                   global.dtype() == local.dtype() && global.device() == local.device(),
               name(), ": the statistics all-reduce returned ",
               global.defined() ? global.str() : std::string("an undefined tensor"),
               " for statistics ", local.str());
  const Tensor count = row_of(global, 2);
  const Tensor mean = div(row_of(global, 0), count);
  // E[x^2] - mean^2 can round below zero when the variance is tiny.
  const Tensor var = simclr::relu(sub(div(row_of(global, 1), count), square(mean)));
  const Tensor scale = mul(rsqrt(add(var, eps_)), simclr::to(weight_->value, acc));
  Tensor y = add(mul(sub(x2, mean), scale), simclr::to(bias_->value, acc));
  if (residual.defined()) y = add(y, reshape(simclr::to(residual, acc), {rows, channels_}));
  if (relu) y = simclr::relu(y);
  {
    NoGradGuard no_grad;
    const Tensor n = count.detach();
    auto update = [this](Buffer* running, const Tensor& batch) {
      copy_(running->value, add(mul(running->value, 1.0 - momentum_),
                                mul(simclr::to(batch, DType::f32), momentum_)));
    };
    update(running_mean_, mean.detach());
    update(running_var_, div(mul(var.detach(), n), add(n, -1.0)));
  }
  return reshape(simclr::to(y, x.dtype()), x.shape());
}

void enable_sync_batch_norm(Module& model, const StatsAllReduce& sum_over_ranks) {
  for (const auto& entry : model.named_modules())
    if (auto* bn = dynamic_cast<BatchNorm*>(entry.second)) bn->set_sync(sum_over_ranks);
}

}  // namespace simclr
