// binary: one thread per output element; broadcast operands have stride 0.
#include "kernels/backends.h"
#include "kernels/cast.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/elementwise_math.h"

namespace simclr::cuda {

namespace {
template <typename T>
struct BinaryElement {
  T* out;
  const T *a, *b;
  BinaryOp op;
  __device__ void operator()(int64_t, const int64_t* off) const {
    using A = acc_type<T>;
    out[off[0]] =
        cast_element<T>(binary_forward(op, cast_element<A>(a[off[1]]), cast_element<A>(b[off[2]])));
  }
};
}  // namespace

void binary(BinaryOp op, DType dtype, const Layout& out, void* out_ptr, const Layout& a,
            const void* a_ptr, const Layout& b, const void* b_ptr, Stream stream) {
  dispatch_floating(dtype, "binary", [&](auto tag) {
    using T = typename decltype(tag)::type;
    for_each_offset<3>({out, a, b}, stream,
                       BinaryElement<T>{static_cast<T*>(out_ptr), static_cast<const T*>(a_ptr),
                                        static_cast<const T*>(b_ptr), op});
  });
}

}  // namespace simclr::cuda
