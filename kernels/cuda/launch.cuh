// Launch helpers shared by the CUDA kernels: the device guard, the grid-stride elementwise loop
// over N operands (one thread per element; contiguous operands skip the index arithmetic), and a
// fixed-order block reduction so that results do not depend on timing.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <array>

#include "core/allocator.h"
#include "core/device_guard.h"
#include "core/library_check.h"
#include "core/stream.h"
#include "kernels/layout.h"

namespace simclr::cuda {

constexpr int kThreads = 256;

inline cudaStream_t raw(Stream s) {
  return static_cast<cudaStream_t>(s.handle);
}

// Makes the stream's device current for the kernel launches in scope.
class LaunchGuard : public DeviceGuard {
 public:
  explicit LaunchGuard(Stream s) : DeviceGuard(s.device.index) {}
};

// Scratch memory from the device's caching allocator (none for 0 bytes), given back when the
// launches that use it are queued: stream order keeps it from being reused before they have run.
class Workspace {
 public:
  Workspace(size_t bytes, Stream stream)
      : allocator_(allocator_for(stream.device)),
        ptr_(bytes ? allocator_.allocate(bytes, stream) : nullptr) {}
  ~Workspace() {
    if (ptr_) allocator_.deallocate(ptr_);
  }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  template <typename T = char>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  Allocator& allocator_;
  void* ptr_;
};

inline unsigned grid_for(int64_t work) {
  return static_cast<unsigned>(std::clamp<int64_t>((work + kThreads - 1) / kThreads, 1, 1 << 20));
}

template <size_t N>
struct Layouts {
  Layout l[N];
};

template <size_t N, typename F>
__global__ void elementwise_kernel(int64_t n, Layouts<N> layouts, bool contiguous, F f) {
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    int64_t off[N];
    for (size_t k = 0; k < N; ++k) off[k] = contiguous ? i : layouts.l[k].offset(i);
    f(i, off);
  }
}

// Calls f(i, off) on the device for every element i of the operands (which share sizes).
template <size_t N, typename F>
void for_each_offset(const std::array<Layout, N>& layouts, Stream stream, const F& f) {
  const int64_t n = layouts[0].numel();
  if (n == 0) return;
  Layouts<N> packed;
  bool contiguous = true;
  for (size_t k = 0; k < N; ++k) {
    packed.l[k] = layouts[k];
    contiguous = contiguous && layouts[k].contiguous();
  }
  LaunchGuard guard(stream);
  elementwise_kernel<N, F><<<grid_for(n), kThreads, 0, raw(stream)>>>(n, packed, contiguous, f);
  SIMCLR_CUDA_CHECK(cudaGetLastError());
}

// Reduces one value per thread over the block (blockDim.x == kThreads) in a fixed tree order;
// every thread gets the result.
template <typename A, typename Op>
__device__ A block_reduce(A v, Op op) {
  __shared__ A shared[kThreads];
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if (static_cast<int>(threadIdx.x) < s)
      shared[threadIdx.x] = op(shared[threadIdx.x], shared[threadIdx.x + s]);
    __syncthreads();
  }
  const A result = shared[0];
  __syncthreads();
  return result;
}

}  // namespace simclr::cuda
