// BatchNorm over the channels (last) dimension of NHWC activations ([n, c] for BatchNorm1d,
// [n, h, w, c] for BatchNorm2d), with PyTorch's parameters, buffers and momentum rule, and the
// fused forms a ResNet block ends with: relu(bn(x)) and relu(bn(x) + residual).
#pragma once

#include "kernels/nn_ops.h"
#include "layers/module.h"

namespace simclr {

class BatchNorm : public Module {
 public:
  // rank: 2 for BatchNorm1d, 4 for BatchNorm2d (the input's number of dimensions).
  BatchNorm(int64_t channels, int rank, double eps = 1e-5, double momentum = 0.1);
  Tensor forward(const Tensor& x) override { return forward(x, Tensor(), false); }
  Tensor forward(const Tensor& x, const Tensor& residual, bool relu);
  std::string name() const override { return rank_ == 2 ? "BatchNorm1d" : "BatchNorm2d"; }

  Tensor& weight() { return weight_->value; }
  Tensor& bias() { return bias_->value; }
  Tensor& running_mean() { return running_mean_->value; }
  Tensor& running_var() { return running_var_->value; }
  int64_t num_batches_tracked() const { return num_batches_->value.data<int64_t>()[0]; }

 private:
  int64_t channels_;
  int rank_;
  double eps_, momentum_;
  Parameter *weight_, *bias_;
  Buffer *running_mean_, *running_var_, *num_batches_;
};

}  // namespace simclr
