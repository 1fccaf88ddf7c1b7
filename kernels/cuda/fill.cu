// fill: one thread per element writes the value.
#include "kernels/backends.h"
#include "kernels/cuda/launch.cuh"

namespace simclr::cuda {

namespace {
template <typename T>
struct FillElement {
  T* out;
  T value;
  __device__ void operator()(int64_t, const int64_t* off) const { out[off[0]] = value; }
};
}  // namespace

void fill(DType dtype, const Layout& out, void* out_ptr, double value, Stream stream) {
  dispatch_all(dtype, "fill", [&](auto tag) {
    using T = typename decltype(tag)::type;
    for_each_offset<1>({out}, stream,
                       FillElement<T>{static_cast<T*>(out_ptr), static_cast<T>(value)});
  });
}

}  // namespace simclr::cuda
