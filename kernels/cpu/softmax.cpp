// softmax over the middle dimension of [outer, dim, inner]: max, then the sum of exponentials,
// then the normalized values; log-softmax returns x - max - log(sum).
#include "kernels/backends.h"
#include "kernels/cast.h"
#include "kernels/elementwise_math.h"

namespace simclr::cpu {

void softmax(bool log, DType dtype, int64_t outer, int64_t dim, int64_t inner, void* out_ptr,
             const void* in_ptr, Stream) {
  dispatch_floating(dtype, "softmax", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    T* o = static_cast<T*>(out_ptr);
    const T* x = static_cast<const T*>(in_ptr);
    for (int64_t row = 0; row < outer * inner; ++row) {
      const int64_t base = (row / inner) * dim * inner + row % inner;
      A max = -INFINITY;
      for (int64_t j = 0; j < dim; ++j) max = std::max(max, cast_element<A>(x[base + j * inner]));
      A sum = 0;
      for (int64_t j = 0; j < dim; ++j)
        sum += math::exp(cast_element<A>(x[base + j * inner]) - max);
      const A log_sum = math::log(sum);
      for (int64_t j = 0; j < dim; ++j) {
        const A shifted = cast_element<A>(x[base + j * inner]) - max;
        o[base + j * inner] = cast_element<T>(log ? shifted - log_sum : math::exp(shifted) / sum);
      }
    }
  });
}

void softmax_backward(bool log, DType dtype, int64_t outer, int64_t dim, int64_t inner,
                      void* grad_in_ptr, const void* y_ptr, const void* grad_y_ptr, Stream) {
  dispatch_floating(dtype, "softmax_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    T* gx = static_cast<T*>(grad_in_ptr);
    const T* y = static_cast<const T*>(y_ptr);
    const T* gy = static_cast<const T*>(grad_y_ptr);
    for (int64_t row = 0; row < outer * inner; ++row) {
      const int64_t base = (row / inner) * dim * inner + row % inner;
      // softmax: gx = y * (gy - sum(gy * y)); log-softmax: gx = gy - exp(y) * sum(gy).
      A dot = 0;
      for (int64_t j = 0; j < dim; ++j) {
        const int64_t i = base + j * inner;
        dot += cast_element<A>(gy[i]) * (log ? A(1) : cast_element<A>(y[i]));
      }
      for (int64_t j = 0; j < dim; ++j) {
        const int64_t i = base + j * inner;
        const A yi = cast_element<A>(y[i]), gi = cast_element<A>(gy[i]);
        gx[i] = cast_element<T>(log ? gi - math::exp(yi) * dot : yi * (gi - dot));
      }
    }
  });
}

}  // namespace simclr::cpu
