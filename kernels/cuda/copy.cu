// copy: one thread per element reads, converts (kernels/cast.h) and writes. transfer moves bytes
// between host and device.
#include "kernels/backends.h"
#include "kernels/cast.h"
#include "kernels/cuda/launch.cuh"

namespace simclr::cuda {

namespace {
template <typename O, typename I>
struct CopyElement {
  O* out;
  const I* in;
  __device__ void operator()(int64_t, const int64_t* off) const {
    out[off[0]] = cast_element<O>(in[off[1]]);
  }
};
}  // namespace

void copy(DType out_dtype, const Layout& out, void* out_ptr, DType in_dtype, const Layout& in,
          const void* in_ptr, Stream stream) {
  dispatch_all(out_dtype, "copy", [&](auto out_tag) {
    using O = typename decltype(out_tag)::type;
    dispatch_all(in_dtype, "copy", [&](auto in_tag) {
      using I = typename decltype(in_tag)::type;
      for_each_offset<2>(
          {out, in}, stream,
          CopyElement<O, I>{static_cast<O*>(out_ptr), static_cast<const I*>(in_ptr)});
    });
  });
}

void transfer(void* dst, Device dst_device, const void* src, Device src_device, size_t bytes,
              Stream stream) {
  if (bytes == 0) return;
  LaunchGuard guard(stream);
  SIMCLR_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, raw(stream)));
  // Host memory here is pageable: wait, so the host may read dst or free src when we return.
  if (dst_device.is_cpu() || src_device.is_cpu())
    SIMCLR_CUDA_CHECK(cudaStreamSynchronize(raw(stream)));
}

}  // namespace simclr::cuda
