// The two backends' kernel entry points, with identical signatures (kernels/kernel_decls.inc).
// Only the dispatchers in kernels/*.cpp and the tests that compare backends include this.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "core/stream.h"
#include "kernels/augment_params.h"
#include "kernels/layout.h"
#include "kernels/op_kinds.h"
#include "kernels/optimizer_math.h"

namespace simclr {

// Row-major GEMM arguments: C[m, n] = alpha * op(A)[m, k] * op(B)[k, n] + beta * C[m, n], with
// op(X) = X or X^T. Leading dimensions are row strides of the matrices as stored; batch strides
// are in elements (0 broadcasts one matrix over the batch).
struct GemmArgs {
  bool trans_a = false, trans_b = false;
  int64_t batch = 1, m = 0, n = 0, k = 0;
  const void* a = nullptr;
  int64_t lda = 0, stride_a = 0;
  const void* b = nullptr;
  int64_t ldb = 0, stride_b = 0;
  void* c = nullptr;
  int64_t ldc = 0, stride_c = 0;
  float alpha = 1.0f, beta = 0.0f;
  const void* bias = nullptr;  // [n] in C's dtype, added to every row of C after the product
};

// A 2-D convolution over NHWC activations with [k, r, s, c] filters (cuDNN's NHWC filter layout:
// out channels, kernel height, kernel width, in channels); the output is [n, p, q, k], NHWC.
struct ConvShape {
  int64_t n = 0, h = 0, w = 0, c = 0;  // input
  int64_t k = 0, r = 0, s = 0;         // filters
  int64_t p = 0, q = 0;                // output height and width
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
};

// A 2-D max pooling window over NHWC activations; the output is [n, p, q, c].
struct PoolShape {
  int64_t n = 0, h = 0, w = 0, c = 0;
  int64_t p = 0, q = 0;
  int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
};

// The operands of the fused NT-Xent kernels (kernels/kernel_decls.inc; the math in
// kernels/nt_xent.h). A call handles the global rows [row_offset, row_offset + rows) of z against
// all m columns.
struct NtXentArgs {
  DType dtype = DType::f32;
  int64_t rows = 0, row_offset = 0;
  int64_t m = 0, d = 0;            // z is [m, d], contiguous, row-major
  const void* z = nullptr;         // on the kernel's device
  const void* inv_norm = nullptr;  // [m] acc_type 1 / max(||z_i||, eps), or null (z as given)
  double inv_temperature = 1.0;
  bool tf32 = false;  // CUDA, f32 z: the tile products on TF32 tensor cores
};

namespace cpu {
#include "kernels/kernel_decls.inc"
}  // namespace cpu

namespace cuda {
#include "kernels/kernel_decls.inc"

// Moves `bytes` between host and device (or two devices), ordered on `stream`; returns once the
// host side may be reused or read.
void transfer(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes,
              Stream stream);

// Whether augment and augment_given build each view of `policy` (c channels; `blur`: whether any
// view of the batch blurs) in one block's shared memory on CUDA device `device`, reading the
// source once; otherwise they take the three-launch path (kernels/cuda/augment.cu).
bool augment_in_shared_memory(const AugmentPolicy& policy, int64_t c, bool blur, int device);
}  // namespace cuda

}  // namespace simclr
