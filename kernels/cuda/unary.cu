// unary and unary_backward: one thread per element, the per-element math shared with the CPU
// reference (kernels/elementwise_math.h).
#include "kernels/backends.h"
#include "kernels/cast.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/elementwise_math.h"

namespace simclr::cuda {

namespace {

template <typename T>
struct UnaryElement {
  T* out;
  const T* in;
  UnaryOp op;
  acc_type<T> alpha;
  __device__ void operator()(int64_t, const int64_t* off) const {
    out[off[0]] = cast_element<T>(unary_forward(op, cast_element<acc_type<T>>(in[off[1]]), alpha));
  }
};

template <typename T>
struct UnaryBackwardElement {
  T* grad_x;
  const T *x, *y, *grad_y;
  UnaryOp op;
  acc_type<T> alpha;
  __device__ void operator()(int64_t, const int64_t* off) const {
    using A = acc_type<T>;
    grad_x[off[0]] = cast_element<T>(
        unary_backward_element(op, cast_element<A>(x[off[1]]), cast_element<A>(y[off[2]]),
                               cast_element<A>(grad_y[off[3]]), alpha));
  }
};

}  // namespace

void unary(UnaryOp op, DType dtype, const Layout& out, void* out_ptr, const Layout& in,
           const void* in_ptr, double alpha, Stream stream) {
  dispatch_floating(dtype, "unary", [&](auto tag) {
    using T = typename decltype(tag)::type;
    for_each_offset<2>({out, in}, stream,
                       UnaryElement<T>{static_cast<T*>(out_ptr), static_cast<const T*>(in_ptr), op,
                                       static_cast<acc_type<T>>(alpha)});
  });
}

void unary_backward(UnaryOp op, DType dtype, const Layout& grad_x, void* grad_x_ptr,
                    const Layout& x, const void* x_ptr, const Layout& y, const void* y_ptr,
                    const Layout& grad_y, const void* grad_y_ptr, double alpha, Stream stream) {
  dispatch_floating(dtype, "unary_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    for_each_offset<4>(
        {grad_x, x, y, grad_y}, stream,
        UnaryBackwardElement<T>{static_cast<T*>(grad_x_ptr), static_cast<const T*>(x_ptr),
                                static_cast<const T*>(y_ptr), static_cast<const T*>(grad_y_ptr), op,
                                static_cast<acc_type<T>>(alpha)});
  });
}

}  // namespace simclr::cuda
