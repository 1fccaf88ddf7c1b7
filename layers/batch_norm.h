// BatchNorm over the channels (last) dimension of NHWC activations ([n, c] for BatchNorm1d,
// [n, h, w, c] for BatchNorm2d), with PyTorch's parameters, buffers and momentum rule, and the
// fused forms a ResNet block ends with: relu(bn(x)) and relu(bn(x) + residual).
//
// SyncBatchNorm (SimCLR's global BN) is an option of the same module: with a StatsAllReduce set,
// training normalizes with the statistics of the global batch, every rank's rows. Each rank sums
// its rows per channel, the function sums those sums over the ranks, and the normalization is
// written with the differentiable ops of kernels/ops.h, so autograd gives the backward (through
// the function's own backward, which sums the statistics' gradients over the ranks). layers/
// knows nothing of processes: dist/ supplies the function (all_reduce_with_grad).
#pragma once

#include <functional>

#include "kernels/nn_ops.h"
#include "layers/module.h"

namespace simclr {

// Gets this rank's per-channel statistics, [3, channels] (rows: sum, sum of squares, row count;
// f32, or f64 for f64 inputs) and returns their element-wise sum over the ranks, with a backward
// that sums the incoming gradient over the ranks; the identity on one process.
using StatsAllReduce = std::function<Tensor(const Tensor&)>;

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

  // Training then uses the global batch's statistics (an empty function: this rank's, as
  // plain BatchNorm). Every rank must run the same forwards and backwards, since each one
  // communicates. Eval is unchanged.
  void set_sync(StatsAllReduce sum_over_ranks) { sync_ = std::move(sum_over_ranks); }
  bool is_sync() const { return static_cast<bool>(sync_); }

 private:
  Tensor sync_forward(const Tensor& x, const Tensor& residual, bool relu);

  StatsAllReduce sync_;
  int64_t channels_;
  int rank_;
  double eps_, momentum_;
  Parameter *weight_, *bias_;
  Buffer *running_mean_, *running_var_, *num_batches_;
};

// set_sync(sum_over_ranks) on every BatchNorm of the tree (an empty function turns SyncBN off).
void enable_sync_batch_norm(Module& model, const StatsAllReduce& sum_over_ranks);

}  // namespace simclr
