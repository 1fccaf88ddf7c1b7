// The per-row math of NT-Xent's fused L2 normalization (kernels/nt_xent.h), written once for the
// CPU reference and the CUDA kernels. The kernels never write the normalized copy zhat of z: they
// scale each similarity by the two rows' inverse norms and fold the normalization's Jacobian into
// the gradient of each row. A is the accumulation type (float, or double for f64 z).
#pragma once

#include "core/macros.h"
#include "kernels/elementwise_math.h"

namespace simclr::nt_xent_math {

// F.normalize's eps: zhat = z / max(||z||, eps).
constexpr double kNormEps = 1e-12;

// 1 / max(||z||, eps) from the row's sum of squares.
template <typename A>
SIMCLR_HD_INLINE A inv_norm(A sum_sq) {
  const A norm = math::sqrt(sum_sq);
  return A(1) / (norm > A(kNormEps) ? norm : A(kNormEps));
}

// zhat_k . ghat_k, the part of the gradient ghat_k of the normalized row along the row itself.
// With ghat_k = scale (sum_j W_kj zhat_j - 2 zhat_pos) and s_kj = inv_t zhat_k . zhat_j it is
// scale / inv_t (sum_j W_kj s_kj - 2 s_k,pos): sums over the similarity tiles the kernels walk
// anyway, so no second pass over the row is needed. The norm's gradient vanishes where eps clamps
// it (inv_k = 1 / eps), as it does in PyTorch.
template <typename A>
SIMCLR_HD_INLINE A radial(A scale, A inv_t, A w_s_sum, A s_pos, A inv_k) {
  if (inv_k >= inv_norm(A(0))) return A(0);
  return scale * (w_s_sum - A(2) * s_pos) / inv_t;
}

// One element of the gradient with respect to the raw row k: the normalization's Jacobian
// (ghat - zhat_k (zhat_k . ghat)) / max(||z_k||, eps) applied to ghat = scale (g - 2 zhat_pos),
// where g = sum_j W_kj zhat_j. Without normalization inv_k = 1 and radial = 0.
template <typename A>
SIMCLR_HD_INLINE A grad(A scale, A g, A zhat_pos, A zhat_k, A inv_k, A radial_k) {
  return inv_k * (scale * (g - A(2) * zhat_pos) - zhat_k * radial_k);
}

}  // namespace simclr::nt_xent_math
