// reduce: one block per output element (grid-stride over outputs). Each of the block's threads
// folds the reduced elements r = thread, thread + blockDim, ... in order, then the block combines
// the partial values in a fixed tree, so the result is deterministic (though, for sums, not
// bit-identical to the CPU's sequential order).
#include "kernels/backends.h"
#include "kernels/cast.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/elementwise_math.h"

namespace simclr::cuda {

namespace {

template <typename A>
struct Merge {
  ReduceOp op;
  __device__ A operator()(A x, A y) const { return reduce_merge(op, x, y); }
};

template <typename T>
__global__ void reduce_kernel(ReduceOp op, T* out, Layout kept, Layout reduced, const T* in) {
  using A = acc_type<T>;
  const int64_t outputs = kept.numel(), count = reduced.numel();
  for (int64_t k = blockIdx.x; k < outputs; k += gridDim.x) {
    const T* base = in + kept.offset(k);
    A acc = reduce_identity<A>(op);
    for (int64_t r = threadIdx.x; r < count; r += blockDim.x)
      acc = reduce_merge(op, acc, reduce_element(op, cast_element<A>(base[reduced.offset(r)])));
    acc = block_reduce(acc, Merge<A>{op});
    if (threadIdx.x == 0) out[k] = cast_element<T>(reduce_finish(op, acc, count));
  }
}

}  // namespace

void reduce(ReduceOp op, DType dtype, void* out_ptr, const Layout& kept, const Layout& reduced,
            const void* in_ptr, Stream stream) {
  const int64_t outputs = kept.numel();
  if (outputs == 0) return;
  dispatch_floating(dtype, "reduce", [&](auto tag) {
    using T = typename decltype(tag)::type;
    LaunchGuard guard(stream);
    const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(outputs, 1 << 20));
    reduce_kernel<T><<<blocks, kThreads, 0, raw(stream)>>>(op, static_cast<T*>(out_ptr), kept,
                                                           reduced, static_cast<const T*>(in_ptr));
    SIMCLR_CUDA_CHECK(cudaGetLastError());
  });
}

}  // namespace simclr::cuda
