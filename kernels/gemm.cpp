// The one place that turns tensors into GemmArgs for the matmul kernels (matmul and linear).
#include "kernels/gemm.h"

#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace simclr::detail {

namespace {

struct Operand {
  Tensor t;  // kept alive (and possibly a contiguous copy)
  bool trans = false;
  int64_t ld = 0, batch_stride = 0;
};

// Describes the last two dims of t as a BLAS matrix, copying only if neither the rows nor the
// columns are unit-stride.
Operand as_blas_operand(const Tensor& t) {
  const int r = t.ndim() - 2, c = t.ndim() - 1;
  const int64_t rows = t.shape()[r], cols = t.shape()[c];
  const int64_t rs = t.strides()[static_cast<size_t>(r)], cs = t.strides()[static_cast<size_t>(c)];
  Operand op{t};
  if ((cs == 1 || cols == 1) && rs >= std::max<int64_t>(cols, 1)) {
    op.ld = rs;
  } else if ((rs == 1 || rows == 1) && cs >= std::max<int64_t>(rows, 1)) {
    op.trans = true;
    op.ld = cs;
  } else {
    op.t = contiguous(t);
    op.ld = std::max<int64_t>(cols, 1);
  }
  op.batch_stride = op.t.ndim() == 3 ? op.t.strides()[0] : 0;
  return op;
}

}  // namespace

Tensor gemm(const Tensor& a, const Tensor& b, const Tensor& bias) {
  const int64_t m = a.shape()[a.ndim() - 2], k = a.shape()[a.ndim() - 1];
  const int64_t n = b.shape()[b.ndim() - 1];
  const int64_t batch = a.ndim() == 3 ? a.shape()[0] : 1;
  Shape out_shape = a.ndim() == 3 ? Shape{batch, m, n} : Shape{m, n};
  if (k == 0) {
    Tensor z = zeros(out_shape, a.dtype(), a.device());
    return bias.defined() ? add(z, bias) : z;
  }
  Tensor out = Tensor::empty(out_shape, a.dtype(), a.device());
  if (out.numel() == 0) return out;
  const Operand A = as_blas_operand(a), B = as_blas_operand(b);
  GemmArgs args;
  args.trans_a = A.trans;
  args.trans_b = B.trans;
  args.batch = batch;
  args.m = m;
  args.n = n;
  args.k = k;
  args.a = A.t.data_ptr();
  args.lda = A.ld;
  args.stride_a = A.batch_stride;
  args.b = B.t.data_ptr();
  args.ldb = B.ld;
  args.stride_b = B.batch_stride;
  args.c = out.data_ptr();
  args.ldc = n;
  args.stride_c = m * n;
  args.bias = bias.defined() ? bias.data_ptr() : nullptr;
  SIMCLR_DISPATCH(a.device(), matmul, a.dtype(), args, current_stream(a.device()));
  return out;
}

}  // namespace simclr::detail
