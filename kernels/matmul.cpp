// matmul: 2-D and batched 3-D products on OpenBLAS (CPU) or cuBLASLt (CUDA). Operands whose last
// two dimensions are a transposed view go to BLAS as transposes, without a copy.
#include "kernels/dispatch.h"
#include "kernels/gemm.h"
#include "kernels/ops.h"

namespace simclr {

namespace {

Tensor matmul_forward(const Tensor& a, const Tensor& b) {
  NoGradGuard no_grad;  // the op records one node for the whole product
  if (a.ndim() == 3 && b.ndim() == 2) {
    // A batch of rows against one matrix is a single GEMM with batch * m rows.
    const int64_t batch = a.shape()[0], m = a.shape()[1];
    return reshape(detail::gemm(reshape(a, Shape{batch * m, a.shape()[2]}), b),
                   Shape{batch, m, b.shape()[1]});
  }
  if (a.ndim() == 2 && b.ndim() == 3)
    return detail::gemm(contiguous(expand(a, Shape{b.shape()[0], a.shape()[0], a.shape()[1]})), b);
  return detail::gemm(a, b);
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
