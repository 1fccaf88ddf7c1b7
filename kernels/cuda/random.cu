// Random fills: one thread per element computes its value from (seed, block) with the same
// function as the CPU reference (kernels/random_element.h).
#include "kernels/backends.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/random_element.h"

namespace simclr::cuda {

namespace {

__global__ void philox_bits_kernel(uint32_t* out, int64_t n, uint64_t seed, uint64_t first_block) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step)
    out[i] = philox_block(seed, 0, first_block + static_cast<uint64_t>(i) / 4).v[i % 4];
}

template <typename T>
struct RandomElement {
  T* out;
  RandomKind kind;
  uint64_t seed, first_block;
  double a, b;
  __device__ void operator()(int64_t i, const int64_t* off) const {
    out[off[0]] = random_element<T>(kind, seed, first_block, i, a, b);
  }
};

}  // namespace

void philox_bits(uint32_t* out, int64_t n, uint64_t seed, uint64_t first_block, Stream stream) {
  if (n == 0) return;
  LaunchGuard guard(stream);
  philox_bits_kernel<<<grid_for(n), kThreads, 0, raw(stream)>>>(out, n, seed, first_block);
  SIMCLR_CUDA_CHECK(cudaGetLastError());
}

void random(RandomKind kind, DType dtype, const Layout& out, void* out_ptr, uint64_t seed,
            uint64_t first_block, double a, double b, Stream stream) {
  dispatch_floating(dtype, "random", [&](auto tag) {
    using T = typename decltype(tag)::type;
    for_each_offset<1>({out}, stream,
                       RandomElement<T>{static_cast<T*>(out_ptr), kind, seed, first_block, a, b});
  });
}

}  // namespace simclr::cuda
