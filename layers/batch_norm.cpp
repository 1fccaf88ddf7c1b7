#include "layers/batch_norm.h"

namespace simclr {

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
  return batch_norm(x, weight_->value, bias_->value, running_mean_->value, running_var_->value,
                    is_training(), momentum_, eps_, residual, relu);
}

}  // namespace simclr
