// unary and unary_backward: one SIMCLR_HD function per element (kernels/elementwise_math.h),
// computed in the accumulation type.
#include "kernels/backends.h"
#include "kernels/cast.h"
#include "kernels/cpu/loops.h"
#include "kernels/elementwise_math.h"

namespace simclr::cpu {

void unary(UnaryOp op, DType dtype, const Layout& out, void* out_ptr, const Layout& in,
           const void* in_ptr, double alpha, Stream) {
  dispatch_floating(dtype, "unary", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    T* o = static_cast<T*>(out_ptr);
    const T* x = static_cast<const T*>(in_ptr);
    const A al = static_cast<A>(alpha);
    for_each_offset<2>({out, in}, [&](int64_t, const std::array<int64_t, 2>& off) {
      o[off[0]] = cast_element<T>(unary_forward<A>(op, cast_element<A>(x[off[1]]), al));
    });
  });
}

void unary_backward(UnaryOp op, DType dtype, const Layout& grad_x, void* grad_x_ptr,
                    const Layout& x, const void* x_ptr, const Layout& y, const void* y_ptr,
                    const Layout& grad_y, const void* grad_y_ptr, double alpha, Stream) {
  dispatch_floating(dtype, "unary_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    T* gx = static_cast<T*>(grad_x_ptr);
    const T* xs = static_cast<const T*>(x_ptr);
    const T* ys = static_cast<const T*>(y_ptr);
    const T* gy = static_cast<const T*>(grad_y_ptr);
    const A al = static_cast<A>(alpha);
    for_each_offset<4>({grad_x, x, y, grad_y}, [&](int64_t, const std::array<int64_t, 4>& off) {
      gx[off[0]] = cast_element<T>(unary_backward_element<A>(op, cast_element<A>(xs[off[1]]),
                                                             cast_element<A>(ys[off[2]]),
                                                             cast_element<A>(gy[off[3]]), al));
    });
  });
}

}  // namespace simclr::cpu
