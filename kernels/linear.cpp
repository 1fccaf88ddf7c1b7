// linear: x W^T + b (PyTorch's F.linear) as one GEMM whose bias add is fused (cuBLASLt's bias
// epilogue on CUDA, the same loop pass on the CPU).
#include "kernels/dispatch.h"
#include "kernels/gemm.h"
#include "kernels/nn_ops.h"

namespace simclr {

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_same_device(x, weight, "linear");
  check_same_dtype(x, weight, "linear");
  detail::check_floating(x, "linear");
  SIMCLR_CHECK(weight.ndim() == 2 && x.ndim() >= 1 && x.size(-1) == weight.size(1),
               "linear: input ", x.shape().str(), " does not fit weight ", weight.shape().str(),
               " (expected input [..., ", weight.ndim() == 2 ? weight.size(1) : -1,
               "] and weight [out, in])");
  const int64_t in = weight.size(1), out = weight.size(0);
  if (bias.defined()) {
    check_same_device(x, bias, "linear");
    check_same_dtype(x, bias, "linear");
    SIMCLR_CHECK(bias.shape() == Shape({out}), "linear: expected bias [", out, "], got ",
                 bias.shape().str());
  }
  std::vector<int64_t> out_dims = x.shape().dims();
  out_dims.back() = out;
  Tensor y;
  {
    NoGradGuard no_grad;
    const Tensor rows = reshape(x, Shape{-1, in});
    y = reshape(detail::gemm(rows, transpose(weight, 0, 1), bias), Shape(out_dims));
  }
  return detail::record(y, "linear", {x, weight, bias}, {x, weight},
                        [in, out](Node& node, const std::vector<Tensor>& g) {
                          const Tensor& xs = node.saved[0];
                          const Tensor& w = node.saved[1];
                          const Tensor gy = reshape(g[0], Shape{-1, out});
                          Tensor gx, gw, gb;
                          if (node.needs_input_grad(0)) gx = reshape(matmul(gy, w), xs.shape());
                          if (node.needs_input_grad(1))
                            gw = matmul(transpose(gy, 0, 1), reshape(xs, Shape{-1, in}));
                          if (node.needs_input_grad(2)) gb = sum(gy, {0});
                          return std::vector<Tensor>{gx, gw, gb};
                        });
}

}  // namespace simclr
