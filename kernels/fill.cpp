// fill_ and the factories built on it.
#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace simclr {

using detail::layout_of;

Tensor& fill_(Tensor& t, double value) {
  SIMCLR_CHECK(!(grad_enabled() && t.requires_grad()),
               "fill_: in-place write into a tensor that requires grad: ", t.str());
  SIMCLR_DISPATCH(t.device(), fill, t.dtype(), layout_of(t), t.data_ptr(), value,
                  current_stream(t.device()));
  return t;
}

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = Tensor::empty(shape, dtype, device);
  return fill_(t, value);
}

Tensor zeros(const Shape& shape, DType dtype, Device device) {
  return full(shape, 0.0, dtype, device);
}
Tensor ones(const Shape& shape, DType dtype, Device device) {
  return full(shape, 1.0, dtype, device);
}
Tensor empty_like(const Tensor& t) {
  return Tensor::empty(t.shape(), t.dtype(), t.device());
}
Tensor zeros_like(const Tensor& t) {
  return zeros(t.shape(), t.dtype(), t.device());
}
Tensor ones_like(const Tensor& t) {
  return ones(t.shape(), t.dtype(), t.device());
}

Tensor arange(int64_t n, DType dtype, Device device) {
  SIMCLR_CHECK(n >= 0, "arange: expected n >= 0, got ", n);
  std::vector<double> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[static_cast<size_t>(i)] = static_cast<double>(i);
  return to(to(from_vector(values, Shape{n}), dtype), device);
}

}  // namespace simclr
