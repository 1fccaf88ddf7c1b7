// The NT-Xent loss as the trainer calls it. On CUDA the fused kernels (kernels/nt_xent.h) never
// store the M x M similarity matrix. On the CPU, matrices are small (M = 512 for the default run)
// and BLAS is fast, while the fused reference loops accumulate in fp64 one dot product at a time;
// there the standard composition (normalize, matmul, mask the diagonal, cross-entropy against the
// partner row, as PyTorch code writes it) is several times faster, with the same result.
#pragma once

#include "core/tensor.h"

namespace simclr {

// The mean NT-Xent loss of z [m, d] (pairs: rows n and n + m/2) at temperature tau, z
// L2-normalized first; fused or composed by the device as above. Differentiable.
Tensor simclr_loss(const Tensor& z, double temperature);

// The composed form on any device (the comparison the fused kernels are tested against).
Tensor nt_xent_composed(const Tensor& z, double temperature);

}  // namespace simclr
