// fill: writes one value, cast to the dtype, into every element.
#include "kernels/backends.h"
#include "kernels/cpu/loops.h"

namespace simclr::cpu {

void fill(DType dtype, const Layout& out, void* out_ptr, double value, Stream) {
  dispatch_all(dtype, "fill", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T v = static_cast<T>(value);
    T* o = static_cast<T*>(out_ptr);
    for_each_offset<1>({out}, [&](int64_t, const std::array<int64_t, 1>& off) { o[off[0]] = v; });
  });
}

}  // namespace simclr::cpu
