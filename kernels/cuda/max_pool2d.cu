// 2-D max pooling over NHWC activations: one thread per output element (forward) or input
// element (backward), channels fastest so that a warp reads contiguous memory. The window
// arithmetic is kernels/max_pool2d_math.h, as on the CPU; the backward gathers the gradients of
// the outputs whose argmax is the element, in output order, so it is deterministic and matches
// the CPU bit for bit.
#include <cmath>

#include "kernels/backends.h"
#include "kernels/cast.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/max_pool2d_math.h"

namespace simclr::cuda {

namespace {

template <typename T>
__global__ void max_pool2d_forward_kernel(PoolShape s, const T* __restrict__ x, T* __restrict__ y,
                                          int32_t* __restrict__ argmax) {
  using A = acc_type<T>;
  const int64_t total = s.n * s.p * s.q * s.c;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; o < total;
       o += step) {
    const int64_t c = o % s.c;
    const int64_t q = (o / s.c) % s.q;
    const int64_t p = (o / (s.c * s.q)) % s.p;
    const int64_t n = o / (s.c * s.q * s.p);
    int64_t where = 0;
    const A best = pool::window_max<A>(x, s, n, p, q, c, &where);
    y[o] = cast_element<T>(best);
    argmax[o] = static_cast<int32_t>(where);
  }
}

template <typename T>
__global__ void max_pool2d_backward_kernel(PoolShape s, const T* __restrict__ grad_y,
                                           const int32_t* __restrict__ argmax,
                                           T* __restrict__ grad_x) {
  using A = acc_type<T>;
  const int64_t total = s.n * s.h * s.w * s.c;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += step) {
    const int64_t c = i % s.c;
    const int64_t w = (i / s.c) % s.w;
    const int64_t h = (i / (s.c * s.w)) % s.h;
    const int64_t n = i / (s.c * s.w * s.h);
    const pool::Range pr = pool::covering(h, s.kernel_h, s.stride_h, s.pad_h, s.p);
    const pool::Range qr = pool::covering(w, s.kernel_w, s.stride_w, s.pad_w, s.q);
    const auto index = static_cast<int32_t>(h * s.w + w);
    A acc = 0;
    for (int64_t p = pr.begin; p < pr.end; ++p) {
      for (int64_t q = qr.begin; q < qr.end; ++q) {
        const int64_t o = ((n * s.p + p) * s.q + q) * s.c + c;
        if (argmax[o] == index) acc += cast_element<A>(grad_y[o]);
      }
    }
    grad_x[i] = cast_element<T>(acc);
  }
}

}  // namespace

void max_pool2d_forward(DType dtype, const PoolShape& shape, const void* x, void* y,
                        int32_t* argmax, Stream stream) {
  const int64_t total = shape.n * shape.p * shape.q * shape.c;
  if (total == 0) return;
  dispatch_floating(dtype, "max_pool2d_forward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    LaunchGuard guard(stream);
    max_pool2d_forward_kernel<T><<<grid_for(total), kThreads, 0, raw(stream)>>>(
        shape, static_cast<const T*>(x), static_cast<T*>(y), argmax);
    SIMCLR_CUDA_CHECK(cudaGetLastError());
  });
}

void max_pool2d_backward(DType dtype, const PoolShape& shape, const void* grad_y,
                         const int32_t* argmax, void* grad_x, Stream stream) {
  const int64_t total = shape.n * shape.h * shape.w * shape.c;
  if (total == 0) return;
  dispatch_floating(dtype, "max_pool2d_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    LaunchGuard guard(stream);
    max_pool2d_backward_kernel<T><<<grid_for(total), kThreads, 0, raw(stream)>>>(
        shape, static_cast<const T*>(grad_y), argmax, static_cast<T*>(grad_x));
    SIMCLR_CUDA_CHECK(cudaGetLastError());
  });
}

}  // namespace simclr::cuda
