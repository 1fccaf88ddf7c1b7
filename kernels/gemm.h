// One strided-batched GEMM on tensors, without autograd: the shared core of matmul and linear.
#pragma once

#include "core/tensor.h"

namespace simclr::detail {

// a [m, k] x b [k, n] (or both batched [batch, ...] with the same batch), plus bias [n] (or
// undefined) added to every row. Operands whose last two dims are a transposed view go to BLAS as
// transposes; other layouts are copied. Every batch stride is non-zero: stride-0 batches are not
// documented as supported by cuBLASLt.
Tensor gemm(const Tensor& a, const Tensor& b, const Tensor& bias = Tensor());

}  // namespace simclr::detail
