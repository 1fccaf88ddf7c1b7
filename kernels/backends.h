// The two backends' kernel entry points, with identical signatures (kernels/kernel_decls.inc).
// Only the dispatchers in kernels/*.cpp and the tests that compare backends include this.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "core/stream.h"
#include "kernels/layout.h"
#include "kernels/op_kinds.h"

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
}  // namespace cuda

}  // namespace simclr
