// conv2d: 2-D convolution (cross-correlation, as PyTorch) of NHWC activations with [k, r, s, c]
// filters, on im2col + OpenBLAS (CPU) or cuDNN (CUDA). The bias is added by broadcasting over the
// channels. Gradients for x, weight and bias; the backward kernels are not differentiable again.
#include <array>
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "kernels/nn_ops.h"

namespace simclr {

namespace {

// The output length along one axis; <= 0 when the (dilated) kernel does not fit.
int64_t output_size(int64_t in, int64_t pad, int64_t dilation, int64_t kernel, int64_t stride) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
  return span < 0 ? 0 : span / stride + 1;
}

std::string pair_str(const std::array<int64_t, 2>& v) {
  return detail::concat(v[0], "x", v[1]);
}

ConvShape conv_shape(const Tensor& x, const Tensor& weight, const Conv2dOptions& o) {
  SIMCLR_CHECK(x.ndim() == 4, "conv2d: expected x of shape [n, h, w, c] (NHWC), got ",
               x.shape().str());
  SIMCLR_CHECK(weight.ndim() == 4, "conv2d: expected weight of shape [k, r, s, c], got ",
               weight.shape().str());
  SIMCLR_CHECK(weight.size(3) == x.size(3), "conv2d: weight ", weight.shape().str(),
               " expects c = ", weight.size(3), " input channels but x ", x.shape().str(), " has ",
               x.size(3), " (x is [n, h, w, c], weight [k, r, s, c])");
  for (int i = 0; i < 2; ++i) {
    SIMCLR_CHECK(o.stride[i] >= 1 && o.dilation[i] >= 1 && o.padding[i] >= 0,
                 "conv2d: expected stride >= 1, dilation >= 1 and padding >= 0, got stride ",
                 pair_str(o.stride), ", dilation ", pair_str(o.dilation), ", padding ",
                 pair_str(o.padding));
  }
  ConvShape g;
  g.n = x.size(0);
  g.h = x.size(1);
  g.w = x.size(2);
  g.c = x.size(3);
  g.k = weight.size(0);
  g.r = weight.size(1);
  g.s = weight.size(2);
  g.stride_h = o.stride[0];
  g.stride_w = o.stride[1];
  g.pad_h = o.padding[0];
  g.pad_w = o.padding[1];
  g.dilation_h = o.dilation[0];
  g.dilation_w = o.dilation[1];
  g.p = output_size(g.h, g.pad_h, g.dilation_h, g.r, g.stride_h);
  g.q = output_size(g.w, g.pad_w, g.dilation_w, g.s, g.stride_w);
  SIMCLR_CHECK(g.p > 0 && g.q > 0, "conv2d: x ", x.shape().str(), " is too small for weight ",
               weight.shape().str(), " with padding ", pair_str(o.padding), " and dilation ",
               pair_str(o.dilation), ": the output would be ", g.p, "x", g.q);
  return g;
}

// The three kernels, on contiguous operands. Degenerate sizes (a zero batch, zero channels or
// zero filters) never reach a kernel: their results are empty or zero.
Tensor forward(const ConvShape& g, const Tensor& x, const Tensor& w) {
  const Shape shape{g.n, g.p, g.q, g.k};
  if (shape.numel() == 0 || g.c == 0) return zeros(shape, x.dtype(), x.device());
  Tensor y = Tensor::empty(shape, x.dtype(), x.device());
  SIMCLR_DISPATCH(x.device(), conv2d_forward, x.dtype(), g, x.data_ptr(), w.data_ptr(),
                  y.data_ptr(), current_stream(x.device()));
  return y;
}

Tensor backward_data(const ConvShape& g, const Tensor& grad_y, const Tensor& w) {
  const Shape shape{g.n, g.h, g.w, g.c};
  if (shape.numel() == 0 || g.k == 0) return zeros(shape, w.dtype(), w.device());
  Tensor grad_x = Tensor::empty(shape, w.dtype(), w.device());
  SIMCLR_DISPATCH(w.device(), conv2d_backward_data, w.dtype(), g, grad_y.data_ptr(), w.data_ptr(),
                  grad_x.data_ptr(), current_stream(w.device()));
  return grad_x;
}

Tensor backward_filter(const ConvShape& g, const Tensor& x, const Tensor& grad_y) {
  const Shape shape{g.k, g.r, g.s, g.c};
  if (shape.numel() == 0 || g.n == 0) return zeros(shape, x.dtype(), x.device());
  Tensor grad_w = Tensor::empty(shape, x.dtype(), x.device());
  SIMCLR_DISPATCH(x.device(), conv2d_backward_filter, x.dtype(), g, x.data_ptr(), grad_y.data_ptr(),
                  grad_w.data_ptr(), current_stream(x.device()));
  return grad_w;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
              const Conv2dOptions& options) {
  SIMCLR_CHECK(x.defined() && weight.defined(), "conv2d: x and weight must be defined");
  check_same_device(x, weight, "conv2d");
  check_same_dtype(x, weight, "conv2d");
  detail::check_floating(x, "conv2d");
  const ConvShape g = conv_shape(x, weight, options);
  if (bias.defined()) {
    check_same_device(x, bias, "conv2d");
    check_same_dtype(x, bias, "conv2d");
    SIMCLR_CHECK(bias.ndim() == 1 && bias.size(0) == g.k, "conv2d: expected bias of shape [", g.k,
                 "] (one per filter of weight ", weight.shape().str(), "), got ",
                 bias.shape().str());
  }

  Tensor xc, wc, y;
  {
    NoGradGuard no_grad;  // the op records one node for the convolution and its bias
    xc = contiguous(x.detach());
    wc = contiguous(weight.detach());
    y = forward(g, xc, wc);
    if (bias.defined()) y = add(y, bias.detach());
  }
  return detail::record(y, "conv2d", {x, weight, bias}, {xc, wc},
                        [g](Node& node, const std::vector<Tensor>& grads) {
                          const Tensor& xs = node.saved[0];
                          const Tensor& ws = node.saved[1];
                          const Tensor gy = contiguous(grads[0]);
                          Tensor gx, gw, gb;
                          if (node.needs_input_grad(0)) gx = backward_data(g, gy, ws);
                          if (node.needs_input_grad(1)) gw = backward_filter(g, xs, gy);
                          if (node.needs_input_grad(2)) gb = sum(gy, {0, 1, 2});
                          return std::vector<Tensor>{gx, gw, gb};
                        });
}

}  // namespace simclr
