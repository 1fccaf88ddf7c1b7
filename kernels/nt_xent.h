// NT-Xent, SimCLR's contrastive loss (DESIGN.md, "The math of NT-Xent"), fused: the M x M
// similarity matrix is never stored; backward recomputes it from z and each row's log-sum-exp.
//
// z is [m, d] with m = 2N rows. Pair convention, used everywhere: rows n and n + N are the two
// views of sample n, as torch.cat([z1, z2]) lays them out, so pos(i) = (i + N) % m.
// With s_ij = zhat_i . zhat_j / tau, zhat_i = z_i / max(||z_i||, 1e-12) when `normalize` (z_i
// otherwise):
//   loss_i = lse_i - s_{i,pos(i)},  lse_i = log sum_{j != i} exp(s_ij),  L = mean_i loss_i,
//   dL/dzhat_k = 1 / (m tau) * (sum_{j != k} (P_kj + P_jk) zhat_j - 2 zhat_pos(k)),
//   P_ij = exp(s_ij - lse_i), and dL/dz_k = (g - zhat_k (zhat_k . g)) / max(||z_k||, 1e-12) with
//   g = dL/dzhat_k. The normalization is fused into the kernels: they take the rows' inverse
//   norms (one small pre-pass) and never write zhat (kernels/nt_xent_math.h).
// Losses and log-sum-exps are kept in fp32 (fp64 for f64 inputs) whatever z's dtype.
//
// Precision on CUDA: bf16 z multiplies on tensor cores (fp32 accumulation); f32 z in full fp32
// FMA by default, like matmul, or on TF32 tensor cores (10-bit mantissa inputs, fp32
// accumulation) when set_nt_xent_tf32(true); f64 in fp64. All are deterministic.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace simclr {

// The mean NT-Xent loss of z [m, d] (m even, >= 2; any floating dtype) as a scalar in f32 (f64
// for f64 z), with its gradient through the optional L2 normalization (PyTorch's F.normalize,
// eps 1e-12, fused into the kernels) and the loss.
Tensor nt_xent(const Tensor& z, double temperature, bool normalize = true);

// Row-wise L2 normalization z / max(||z_i||, 1e-12), differentiable, composed from ops: what
// nt_xent computes inside its kernels, for the distributed form below.
Tensor nt_xent_normalize(const Tensor& z);

// Whether CUDA computes the similarity tiles of f32 z on TF32 tensor cores (on: operands rounded
// to a 10-bit mantissa, and the [cuda] tests allow 2e-3 relative error forward and 4e-3 backward,
// docs/kernels.md; off: full fp32).
// Off unless the environment sets SIMCLR_NT_XENT_TF32=1; read once, at the first call. An
// autograd node keeps the setting its forward ran with. Other dtypes and the CPU ignore it.
bool nt_xent_tf32();
void set_nt_xent_tf32(bool on);

// Sets the TF32 switch for a scope and restores it at the end.
class NtXentTf32Guard {
 public:
  explicit NtXentTf32Guard(bool on) : previous_(nt_xent_tf32()) { set_nt_xent_tf32(on); }
  ~NtXentTf32Guard() { set_nt_xent_tf32(previous_); }
  NtXentTf32Guard(const NtXentTf32Guard&) = delete;
  NtXentTf32Guard& operator=(const NtXentTf32Guard&) = delete;

 private:
  bool previous_;
};

// ---- the distributed form (DESIGN.md, training step 7) ----
// A rank owns some rows of the global batch. It normalizes its own z (nt_xent_normalize, so that
// autograd carries the gradient back through it), the ranks all-gather the normalized rows into
// the global z [m, d] laid out with the pair convention above (all first views, then all second
// views: a rank owning samples [a, b) owns the global rows [a, b) and [N + a, N + b), two ranges),
// and then, for each of its row ranges, with no gradient tracking:
//   1. nt_xent_rows_forward gives the ranges' row losses and log-sum-exps;
//   2. the ranks all-gather the log-sum-exps into lse [m] (global row order) and all-reduce the
//      loss sums (L = total / m);
//   3. nt_xent_rows_backward gives the full gradient of L with respect to the range's rows of the
//      global z (no reduce-scatter needed), to be fed to backward() of the local normalized z.
// These functions never record autograd nodes.
struct NtXentRows {
  Tensor loss;              // [rows], loss_i of the global rows [row_offset, row_offset + rows)
  Tensor lse;               // [rows], lse_i of the same rows
  Tensor loss_sum() const;  // scalar: sum of `loss`
};

// z: the global [m, d] (normalized already if the loss normalizes).
NtXentRows nt_xent_rows_forward(const Tensor& z, int64_t row_offset, int64_t rows,
                                double temperature);

// The gradient, [rows, d] in z's dtype, of grad_scale * sum_{i < m} loss_i with respect to the
// global rows [row_offset, row_offset + rows) of z; lse is every row's log-sum-exp ([m], from
// nt_xent_rows_forward over all the ranges). For the mean loss grad_scale = upstream / m.
Tensor nt_xent_rows_backward(const Tensor& z, const Tensor& lse, int64_t row_offset, int64_t rows,
                             double temperature, double grad_scale);

}  // namespace simclr
