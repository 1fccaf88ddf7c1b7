// matmul: 2-D and batched 3-D products on OpenBLAS (CPU) or cuBLASLt (CUDA). Operands whose last
// two dimensions are a transposed view go to BLAS as transposes, without a copy.
#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace simclr {

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

// One strided-batched GEMM. Both operands have the same rank; every batch stride is non-zero
// (stride-0 batches are not documented as supported by cuBLASLt).
Tensor gemm(const Tensor& a, const Tensor& b) {
  const int64_t m = a.shape()[a.ndim() - 2], k = a.shape()[a.ndim() - 1];
  const int64_t n = b.shape()[b.ndim() - 1];
  const int64_t batch = a.ndim() == 3 ? a.shape()[0] : 1;
  Shape out_shape = a.ndim() == 3 ? Shape{batch, m, n} : Shape{m, n};
  if (k == 0) return zeros(out_shape, a.dtype(), a.device());
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
  SIMCLR_DISPATCH(a.device(), matmul, a.dtype(), args, current_stream(a.device()));
  return out;
}

Tensor matmul_forward(const Tensor& a, const Tensor& b) {
  NoGradGuard no_grad;  // the op records one node for the whole product
  if (a.ndim() == 3 && b.ndim() == 2) {
    // A batch of rows against one matrix is a single GEMM with batch * m rows.
    const int64_t batch = a.shape()[0], m = a.shape()[1];
    return reshape(gemm(reshape(a, Shape{batch * m, a.shape()[2]}), b),
                   Shape{batch, m, b.shape()[1]});
  }
  if (a.ndim() == 2 && b.ndim() == 3)
    return gemm(contiguous(expand(a, Shape{b.shape()[0], a.shape()[0], a.shape()[1]})), b);
  return gemm(a, b);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_same_device(a, b, "matmul");
  check_same_dtype(a, b, "matmul");
  detail::check_floating(a, "matmul");
  const bool ranks_ok = (a.ndim() == 2 || a.ndim() == 3) && (b.ndim() == 2 || b.ndim() == 3);
  SIMCLR_CHECK(ranks_ok, "matmul: expected 2-D or 3-D operands, got ", a.shape().str(), " and ",
               b.shape().str());
  SIMCLR_CHECK(a.shape()[a.ndim() - 1] == b.shape()[b.ndim() - 2], "matmul: shapes ",
               a.shape().str(), " and ", b.shape().str(),
               " cannot be multiplied (inner dimensions differ)");
  SIMCLR_CHECK(a.ndim() == 2 || b.ndim() == 2 || a.shape()[0] == b.shape()[0],
               "matmul: batch sizes of ", a.shape().str(), " and ", b.shape().str(), " differ");
  Tensor out = matmul_forward(a, b);
  return detail::record(out, "matmul", {a, b}, {a, b},
                        [](Node& node, const std::vector<Tensor>& g) {
                          const Tensor& x = node.saved[0];
                          const Tensor& y = node.saved[1];
                          Tensor gx, gy;
                          // A 2-D operand used against a batch gets the sum of its per-batch
                          // gradients.
                          if (node.needs_input_grad(0)) {
                            gx = matmul(g[0], transpose(y, -1, -2));
                            if (x.ndim() == 2 && gx.ndim() == 3) gx = sum(gx, {0});
                          }
                          if (node.needs_input_grad(1)) {
                            gy = matmul(transpose(x, -1, -2), g[0]);
                            if (y.ndim() == 2 && gy.ndim() == 3) gy = sum(gy, {0});
                          }
                          return std::vector<Tensor>{gx, gy};
                        });
}

}  // namespace simclr
