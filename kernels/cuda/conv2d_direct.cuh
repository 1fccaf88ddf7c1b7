// Direct conv2d kernels, the fallback of conv2d.cu (their only includer) when cuDNN runs no
// algorithm for a configuration: plain loops over the NHWC activations and [k, r, s, c] filters,
// one thread per element of the result, accumulating in acc_type. Slow but exact and
// deterministic: each element is summed by one thread in a fixed order.
#pragma once

#include <cstdint>

#include "kernels/backends.h"
#include "kernels/cast.h"

namespace simclr::cuda {

__device__ inline int64_t thread_index() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline int64_t thread_step() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

// One thread per output element y[b, i, j, m].
template <typename T>
__global__ void direct_forward(ConvShape g, const T* x, const T* w, T* y) {
  using A = acc_type<T>;
  const int64_t total = g.n * g.p * g.q * g.k;
  for (int64_t e = thread_index(); e < total; e += thread_step()) {
    const int64_t m = e % g.k, j = (e / g.k) % g.q, i = (e / (g.k * g.q)) % g.p,
                  b = e / (g.k * g.q * g.p);
    A acc = 0;
    for (int64_t u = 0; u < g.r; ++u) {
      const int64_t ih = i * g.stride_h - g.pad_h + u * g.dilation_h;
      if (ih < 0 || ih >= g.h) continue;
      for (int64_t v = 0; v < g.s; ++v) {
        const int64_t iw = j * g.stride_w - g.pad_w + v * g.dilation_w;
        if (iw < 0 || iw >= g.w) continue;
        const T* xp = x + ((b * g.h + ih) * g.w + iw) * g.c;
        const T* wp = w + ((m * g.r + u) * g.s + v) * g.c;
        for (int64_t ch = 0; ch < g.c; ++ch)
          acc += cast_element<A>(xp[ch]) * cast_element<A>(wp[ch]);
      }
    }
    y[e] = cast_element<T>(acc);
  }
}

// One thread per input element grad_x[b, ih, iw, ch], gathering the outputs it contributed to.
template <typename T>
__global__ void direct_backward_data(ConvShape g, const T* grad_y, const T* w, T* grad_x) {
  using A = acc_type<T>;
  const int64_t total = g.n * g.h * g.w * g.c;
  for (int64_t e = thread_index(); e < total; e += thread_step()) {
    const int64_t ch = e % g.c, iw = (e / g.c) % g.w, ih = (e / (g.c * g.w)) % g.h,
                  b = e / (g.c * g.w * g.h);
    A acc = 0;
    for (int64_t u = 0; u < g.r; ++u) {
      const int64_t ti = ih + g.pad_h - u * g.dilation_h;
      if (ti < 0 || ti % g.stride_h != 0 || ti / g.stride_h >= g.p) continue;
      const int64_t i = ti / g.stride_h;
      for (int64_t v = 0; v < g.s; ++v) {
        const int64_t tj = iw + g.pad_w - v * g.dilation_w;
        if (tj < 0 || tj % g.stride_w != 0 || tj / g.stride_w >= g.q) continue;
        const int64_t j = tj / g.stride_w;
        const T* gy = grad_y + ((b * g.p + i) * g.q + j) * g.k;
        for (int64_t m = 0; m < g.k; ++m)
          acc += cast_element<A>(gy[m]) * cast_element<A>(w[((m * g.r + u) * g.s + v) * g.c + ch]);
      }
    }
    grad_x[e] = cast_element<T>(acc);
  }
}

// One thread per filter element grad_w[m, u, v, ch], summing over the batch and the output pixels.
template <typename T>
__global__ void direct_backward_filter(ConvShape g, const T* x, const T* grad_y, T* grad_w) {
  using A = acc_type<T>;
  const int64_t total = g.k * g.r * g.s * g.c;
  for (int64_t e = thread_index(); e < total; e += thread_step()) {
    const int64_t ch = e % g.c, v = (e / g.c) % g.s, u = (e / (g.c * g.s)) % g.r,
                  m = e / (g.c * g.s * g.r);
    A acc = 0;
    for (int64_t b = 0; b < g.n; ++b)
      for (int64_t i = 0; i < g.p; ++i) {
        const int64_t ih = i * g.stride_h - g.pad_h + u * g.dilation_h;
        if (ih < 0 || ih >= g.h) continue;
        for (int64_t j = 0; j < g.q; ++j) {
          const int64_t iw = j * g.stride_w - g.pad_w + v * g.dilation_w;
          if (iw < 0 || iw >= g.w) continue;
          acc += cast_element<A>(x[((b * g.h + ih) * g.w + iw) * g.c + ch]) *
                 cast_element<A>(grad_y[((b * g.p + i) * g.q + j) * g.k + m]);
        }
      }
    grad_w[e] = cast_element<T>(acc);
  }
}

}  // namespace simclr::cuda
