// binary: out = op(a, b) with a and b broadcast to out's sizes.
#include "kernels/backends.h"
#include "kernels/cast.h"
#include "kernels/cpu/loops.h"
#include "kernels/elementwise_math.h"

namespace simclr::cpu {

void binary(BinaryOp op, DType dtype, const Layout& out, void* out_ptr, const Layout& a,
            const void* a_ptr, const Layout& b, const void* b_ptr, Stream) {
  dispatch_floating(dtype, "binary", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    T* o = static_cast<T*>(out_ptr);
    const T* x = static_cast<const T*>(a_ptr);
    const T* y = static_cast<const T*>(b_ptr);
    for_each_offset<3>({out, a, b}, [&](int64_t, const std::array<int64_t, 3>& off) {
      o[off[0]] = cast_element<T>(
          binary_forward<A>(op, cast_element<A>(x[off[1]]), cast_element<A>(y[off[2]])));
    });
  });
}

}  // namespace simclr::cpu
