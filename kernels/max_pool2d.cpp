// max_pool2d over NHWC activations, with PyTorch's semantics: padding acts as -inf (it never
// wins), the output size rounds down, the first maximum of a window wins and NaN propagates. The
// forward saves each output's argmax (i32) so that the backward gathers without recomputing.
#include <limits>

#include "kernels/dispatch.h"
#include "kernels/nn_ops.h"

namespace simclr {

Tensor max_pool2d(const Tensor& x_in, std::array<int64_t, 2> kernel, std::array<int64_t, 2> stride,
                  std::array<int64_t, 2> padding) {
  SIMCLR_CHECK(x_in.defined(), "max_pool2d: the input is undefined");
  detail::check_floating(x_in, "max_pool2d");
  SIMCLR_CHECK(x_in.ndim() == 4, "max_pool2d: expected an NHWC input [n, h, w, c], got ",
               x_in.str());
  PoolShape s;
  s.n = x_in.shape()[0];
  s.h = x_in.shape()[1];
  s.w = x_in.shape()[2];
  s.c = x_in.shape()[3];
  const int64_t in_size[2] = {s.h, s.w};
  int64_t out_size[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    SIMCLR_CHECK(kernel[i] > 0 && stride[i] > 0 && padding[i] >= 0,
                 "max_pool2d: expected kernel > 0, stride > 0 and padding >= 0, got kernel [",
                 kernel[0], ", ", kernel[1], "], stride [", stride[0], ", ", stride[1],
                 "], padding [", padding[0], ", ", padding[1], "]");
    SIMCLR_CHECK(2 * padding[i] <= kernel[i],
                 "max_pool2d: padding should be at most half of the kernel size, got kernel [",
                 kernel[0], ", ", kernel[1], "] and padding [", padding[0], ", ", padding[1], "]");
    SIMCLR_CHECK(in_size[i] + 2 * padding[i] >= kernel[i], "max_pool2d: the input ",
                 x_in.shape().str(), " padded by [", padding[0], ", ", padding[1],
                 "] is smaller than the kernel [", kernel[0], ", ", kernel[1], "]");
    out_size[i] = (in_size[i] + 2 * padding[i] - kernel[i]) / stride[i] + 1;
  }
  SIMCLR_CHECK(s.h * s.w <= std::numeric_limits<int32_t>::max(), "max_pool2d: an image of ", s.h,
               " x ", s.w, " pixels is too large for the i32 argmax");
  s.p = out_size[0];
  s.q = out_size[1];
  s.kernel_h = kernel[0];
  s.kernel_w = kernel[1];
  s.stride_h = stride[0];
  s.stride_w = stride[1];
  s.pad_h = padding[0];
  s.pad_w = padding[1];

  const Device device = x_in.device();
  const Tensor x = contiguous(x_in);
  Tensor y = Tensor::empty({s.n, s.p, s.q, s.c}, x.dtype(), device);
  Tensor argmax = Tensor::empty(y.shape(), DType::i32, device);
  SIMCLR_DISPATCH(device, max_pool2d_forward, x.dtype(), s, x.data_ptr(), y.data_ptr(),
                  argmax.data<int32_t>(), current_stream(device));
  return detail::record(
      y, "max_pool2d", {x}, {argmax}, [s](Node& node, const std::vector<Tensor>& g) {
        const Tensor& argmax = node.saved[0];
        const Device device = argmax.device();
        const Tensor grad_y = contiguous(g[0]);
        Tensor grad_x = Tensor::empty({s.n, s.h, s.w, s.c}, grad_y.dtype(), device);
        SIMCLR_DISPATCH(device, max_pool2d_backward, grad_y.dtype(), s, grad_y.data_ptr(),
                        argmax.data<int32_t>(), grad_x.data_ptr(), current_stream(device));
        return std::vector<Tensor>{grad_x};
      });
}

}  // namespace simclr
