// softmax over the middle dimension of [outer, dim, inner]: one block per row (outer x inner
// rows, grid-stride); the block finds the row's max, then the sum of exponentials, each with a
// fixed-order block reduction, then writes the row.
#include "kernels/backends.h"
#include "kernels/cast.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/elementwise_math.h"

namespace simclr::cuda {

namespace {

template <typename A>
struct Max {
  __device__ A operator()(A x, A y) const { return x > y ? x : y; }
};
template <typename A>
struct Sum {
  __device__ A operator()(A x, A y) const { return x + y; }
};

template <typename T>
__global__ void softmax_kernel(bool log, int64_t rows, int64_t dim, int64_t inner, T* out,
                               const T* in) {
  using A = acc_type<T>;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const int64_t base = (row / inner) * dim * inner + row % inner;
    A max = -INFINITY;
    for (int64_t j = threadIdx.x; j < dim; j += blockDim.x)
      max = Max<A>{}(max, cast_element<A>(in[base + j * inner]));
    max = block_reduce(max, Max<A>{});
    A sum = 0;
    for (int64_t j = threadIdx.x; j < dim; j += blockDim.x)
      sum += math::exp(cast_element<A>(in[base + j * inner]) - max);
    sum = block_reduce(sum, Sum<A>{});
    const A log_sum = math::log(sum);
    for (int64_t j = threadIdx.x; j < dim; j += blockDim.x) {
      const A shifted = cast_element<A>(in[base + j * inner]) - max;
      out[base + j * inner] = cast_element<T>(log ? shifted - log_sum : math::exp(shifted) / sum);
    }
  }
}

template <typename T>
__global__ void softmax_backward_kernel(bool log, int64_t rows, int64_t dim, int64_t inner,
                                        T* grad_in, const T* y, const T* grad_y) {
  using A = acc_type<T>;
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const int64_t base = (row / inner) * dim * inner + row % inner;
    A dot = 0;
    for (int64_t j = threadIdx.x; j < dim; j += blockDim.x) {
      const int64_t i = base + j * inner;
      dot += cast_element<A>(grad_y[i]) * (log ? A(1) : cast_element<A>(y[i]));
    }
    dot = block_reduce(dot, Sum<A>{});
    for (int64_t j = threadIdx.x; j < dim; j += blockDim.x) {
      const int64_t i = base + j * inner;
      const A yi = cast_element<A>(y[i]), gi = cast_element<A>(grad_y[i]);
      grad_in[i] = cast_element<T>(log ? gi - math::exp(yi) * dot : yi * (gi - dot));
    }
  }
}

unsigned row_blocks(int64_t rows) {
  return static_cast<unsigned>(std::min<int64_t>(rows, 1 << 20));
}

}  // namespace

void softmax(bool log, DType dtype, int64_t outer, int64_t dim, int64_t inner, void* out_ptr,
             const void* in_ptr, Stream stream) {
  const int64_t rows = outer * inner;
  if (rows == 0 || dim == 0) return;
  dispatch_floating(dtype, "softmax", [&](auto tag) {
    using T = typename decltype(tag)::type;
    LaunchGuard guard(stream);
    softmax_kernel<T><<<row_blocks(rows), kThreads, 0, raw(stream)>>>(
        log, rows, dim, inner, static_cast<T*>(out_ptr), static_cast<const T*>(in_ptr));
    SIMCLR_CUDA_CHECK(cudaGetLastError());
  });
}

void softmax_backward(bool log, DType dtype, int64_t outer, int64_t dim, int64_t inner,
                      void* grad_in_ptr, const void* y_ptr, const void* grad_y_ptr, Stream stream) {
  const int64_t rows = outer * inner;
  if (rows == 0 || dim == 0) return;
  dispatch_floating(dtype, "softmax_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    LaunchGuard guard(stream);
    softmax_backward_kernel<T><<<row_blocks(rows), kThreads, 0, raw(stream)>>>(
        log, rows, dim, inner, static_cast<T*>(grad_in_ptr), static_cast<const T*>(y_ptr),
        static_cast<const T*>(grad_y_ptr));
    SIMCLR_CUDA_CHECK(cudaGetLastError());
  });
}

}  // namespace simclr::cuda
