// Collectives with gradients, for SimCLR's global batch of negatives (DESIGN.md steps 5 to 7) and
// the global batch statistics of SyncBatchNorm.
//
// Gradient convention (the one of PyTorch's DistributedDataParallel with SimCLR's GatherLayer):
// each rank backpropagates its own loss, and the gradient that reaches this rank's tensors is that
// of the SUM of the ranks' losses; the parameter gradients are then AVERAGED over the ranks
// (GradBucketer). With every rank's loss the mean over its own rows, the average over ranks of
// the per-rank losses is the loss of one process running the global batch, and the averaged
// parameter gradients are exactly that process's gradients.
#pragma once

#include "core/tensor.h"
#include "dist/process_group.h"

namespace simclr {

// [world * n, ...]: every rank's z_local ([n, ...], same shape everywhere) in rank order, with
// an autograd node: backward all-reduces (sums) the incoming gradient over the ranks and returns
// this rank's slice, i.e. the gradient of the sum of all ranks' losses with respect to z_local.
// Every rank must run the backward (it holds a collective).
Tensor all_gather_with_grad(ProcessGroup& group, const Tensor& z_local);

// The element-wise sum over the ranks of t (same shape and dtype everywhere), as a new contiguous
// tensor, with an autograd node whose backward sums the incoming gradient over the ranks: the
// gradient of the sum of all ranks' losses with respect to this rank's t. Every rank must run the
// backward (it holds a collective). SyncBatchNorm's statistics go through it:
//   enable_sync_batch_norm(model, [&group](const Tensor& s) { return all_reduce_with_grad(group,
//   s); });
Tensor all_reduce_with_grad(ProcessGroup& group, const Tensor& t);

// z_local [2B, D] laid out [view-1 rows; view-2 rows] of this rank's B samples -> the global
// Z [2N, D], N = world * B, in the pair layout of kernels/nt_xent.h: rows [0, N) are the first
// views of every rank's samples (rank r's at [r B, (r + 1) B)), rows [N, 2N) the second views.
// Differentiable (all_gather_with_grad, then a reordering).
Tensor gather_views(ProcessGroup& group, const Tensor& z_local);

struct DistributedNtXent {
  // This rank's loss: the mean NT-Xent loss of its own 2B rows against the global batch. Its
  // backward gives z_local the gradient of the sum of every rank's `loss` (see the convention
  // above: averaging parameter gradients over the ranks then gives the global-batch gradient).
  Tensor loss;
  // The global-batch loss (the mean over all 2N rows, identical on every rank; no gradient):
  // what one process running the global batch would report.
  Tensor global_loss;
};

// SimCLR's distributed NT-Xent with the fused kernels (kernels/nt_xent.h, distributed form):
// normalizes z_local (when `normalize`), all-gathers the normalized rows into the global Z
// (gather_views' layout) and the rows' log-sum-exps (2N floats), all-reduces the loss sum
// (1 float), and in backward computes the full gradient of this rank's rows with
// nt_xent_rows_backward, with no further communication. Every rank must call it with the same
// B, D, dtype and temperature, and backpropagate the same upstream gradient (usually 1).
DistributedNtXent distributed_nt_xent(ProcessGroup& group, const Tensor& z_local,
                                      double temperature, bool normalize = true);

}  // namespace simclr
