// copy_, casts, device transfers, clone/contiguous, and host data in and out.
#include <cstring>

#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace simclr {

using detail::broadcast_layout;
using detail::contiguous_layout;
using detail::layout_of;

namespace {

// Copies a contiguous tensor's bytes to another device (same dtype and shape).
Tensor transfer(const Tensor& src, Device device) {
  Tensor out = Tensor::empty(src.shape(), src.dtype(), device);
#if SIMCLR_WITH_CUDA
  const Device cuda_side = device.is_cuda() ? device : src.device();
  cuda::transfer(out.data_ptr(), device, src.data_ptr(), src.device(), src.nbytes(),
                 current_stream(cuda_side));
#else
  detail::no_cuda("transfer");
#endif
  return out;
}

}  // namespace

Tensor& copy_(Tensor& dst, const Tensor& src) {
  SIMCLR_CHECK(!(grad_enabled() && dst.requires_grad()),
               "copy_: in-place write into a tensor that requires grad: ", dst.str());
  broadcast_shapes(dst.shape(), src.shape(), "copy_");
  Tensor from = src;
  if (src.device() != dst.device()) {
    // Cast on the source device, move contiguous bytes, then scatter into dst's layout.
    NoGradGuard no_grad;
    from = transfer(contiguous(to(src, dst.dtype())), dst.device());
  }
  SIMCLR_DISPATCH(dst.device(), copy, dst.dtype(), layout_of(dst), dst.data_ptr(), from.dtype(),
                  broadcast_layout(from, dst.shape()), from.data_ptr(),
                  current_stream(dst.device()));
  return dst;
}

Tensor to(const Tensor& t, Device device) {
  if (t.device() == device) return t;
  Tensor out;
  {
    NoGradGuard no_grad;
    out = transfer(contiguous(t), device);
  }
  const Device source = t.device();
  return detail::record(out, "ToDevice", {t}, {}, [source](Node&, const std::vector<Tensor>& g) {
    return std::vector<Tensor>{to(g[0], source)};
  });
}

Tensor to(const Tensor& t, DType dtype) {
  if (t.dtype() == dtype) return t;
  Tensor out = Tensor::empty(t.shape(), dtype, t.device());
  SIMCLR_DISPATCH(t.device(), copy, dtype, contiguous_layout(t.shape()), out.data_ptr(), t.dtype(),
                  layout_of(t), t.data_ptr(), current_stream(t.device()));
  if (!is_floating(dtype)) return out;
  const DType source = t.dtype();
  return detail::record(out, "Cast", {t}, {}, [source](Node&, const std::vector<Tensor>& g) {
    return std::vector<Tensor>{to(g[0], source)};
  });
}

Tensor clone(const Tensor& t) {
  Tensor out = Tensor::empty(t.shape(), t.dtype(), t.device());
  SIMCLR_DISPATCH(t.device(), copy, t.dtype(), contiguous_layout(t.shape()), out.data_ptr(),
                  t.dtype(), layout_of(t), t.data_ptr(), current_stream(t.device()));
  return detail::record(out, "Clone", {t}, {}, [](Node&, const std::vector<Tensor>& g) {
    return std::vector<Tensor>{g[0]};
  });
}

Tensor contiguous(const Tensor& t) {
  return t.is_contiguous() ? t : clone(t);
}

template <typename T>
Tensor from_vector(const std::vector<T>& data, const Shape& shape, Device device) {
  SIMCLR_CHECK(static_cast<int64_t>(data.size()) == shape.numel(), "from_vector: ", data.size(),
               " values do not fill shape ", shape.str(), " (", shape.numel(), " elements)");
  Tensor host = Tensor::empty(shape, dtype_of<T>(), Device::cpu());
  if (!data.empty()) std::memcpy(host.data_ptr(), data.data(), data.size() * sizeof(T));
  return device.is_cpu() ? host : transfer(host, device);
}

template <typename T>
std::vector<T> to_vector(const Tensor& t) {
  SIMCLR_CHECK(t.dtype() == dtype_of<T>(), "to_vector<", dtype_name(dtype_of<T>()),
               ">: the tensor holds ", dtype_name(t.dtype()));
  NoGradGuard no_grad;
  Tensor host = contiguous(to(t, Device::cpu()));
  if (t.device().is_cuda()) synchronize(current_stream(t.device()));
  std::vector<T> out(static_cast<size_t>(host.numel()));
  if (!out.empty()) std::memcpy(out.data(), host.data_ptr(), out.size() * sizeof(T));
  return out;
}

double item(const Tensor& t) {
  SIMCLR_CHECK(t.numel() == 1, "item: expected a tensor of one element, got ", t.str());
  NoGradGuard no_grad;
  return to_vector<double>(to(t, DType::f64))[0];
}

#define SIMCLR_INSTANTIATE(T)                                                  \
  template Tensor from_vector<T>(const std::vector<T>&, const Shape&, Device); \
  template std::vector<T> to_vector<T>(const Tensor&);
SIMCLR_INSTANTIATE(float)
SIMCLR_INSTANTIATE(double)
SIMCLR_INSTANTIATE(bf16)
SIMCLR_INSTANTIATE(f16)
SIMCLR_INSTANTIATE(uint8_t)
SIMCLR_INSTANTIATE(int32_t)
SIMCLR_INSTANTIATE(int64_t)
#undef SIMCLR_INSTANTIATE

}  // namespace simclr
