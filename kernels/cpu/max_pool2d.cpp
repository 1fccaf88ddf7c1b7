// 2-D max pooling over NHWC activations: the readable reference. Each output takes the first
// maximum of its window (padding never wins; NaN propagates) and remembers where it was; the
// backward gathers, for every input element, the gradients of the outputs whose maximum it was,
// in output order, so that it matches the CUDA kernel bit for bit.
#include <cmath>

#include "kernels/backends.h"
#include "kernels/cast.h"
#include "kernels/max_pool2d_math.h"

namespace simclr::cpu {

void max_pool2d_forward(DType dtype, const PoolShape& s, const void* x_ptr, void* y_ptr,
                        int32_t* argmax, Stream) {
  dispatch_floating(dtype, "max_pool2d_forward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    const T* x = static_cast<const T*>(x_ptr);
    T* y = static_cast<T*>(y_ptr);
    for (int64_t n = 0; n < s.n; ++n) {
      for (int64_t p = 0; p < s.p; ++p) {
        for (int64_t q = 0; q < s.q; ++q) {
          for (int64_t c = 0; c < s.c; ++c) {
            int64_t where = 0;
            const A best = pool::window_max<A>(x, s, n, p, q, c, &where);
            const int64_t o = ((n * s.p + p) * s.q + q) * s.c + c;
            y[o] = cast_element<T>(best);
            argmax[o] = static_cast<int32_t>(where);
          }
        }
      }
    }
  });
}

void max_pool2d_backward(DType dtype, const PoolShape& s, const void* grad_y_ptr,
                         const int32_t* argmax, void* grad_x_ptr, Stream) {
  dispatch_floating(dtype, "max_pool2d_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    const T* grad_y = static_cast<const T*>(grad_y_ptr);
    T* grad_x = static_cast<T*>(grad_x_ptr);
    for (int64_t n = 0; n < s.n; ++n) {
      for (int64_t h = 0; h < s.h; ++h) {
        const pool::Range pr = pool::covering(h, s.kernel_h, s.stride_h, s.pad_h, s.p);
        for (int64_t w = 0; w < s.w; ++w) {
          const pool::Range qr = pool::covering(w, s.kernel_w, s.stride_w, s.pad_w, s.q);
          const auto index = static_cast<int32_t>(h * s.w + w);
          for (int64_t c = 0; c < s.c; ++c) {
            A acc = 0;
            for (int64_t p = pr.begin; p < pr.end; ++p) {
              for (int64_t q = qr.begin; q < qr.end; ++q) {
                const int64_t o = ((n * s.p + p) * s.q + q) * s.c + c;
                if (argmax[o] == index) acc += cast_element<A>(grad_y[o]);
              }
            }
            grad_x[((n * s.h + h) * s.w + w) * s.c + c] = cast_element<T>(acc);
          }
        }
      }
    }
  });
}

}  // namespace simclr::cpu
