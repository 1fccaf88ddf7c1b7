// copy: element-by-element copy between layouts, converting the dtype through the wider of the
// two accumulation types (so f64 -> f64 and i64 -> i64 are exact).
#include "kernels/backends.h"
#include "kernels/cast.h"
#include "kernels/cpu/loops.h"

namespace simclr::cpu {

void copy(DType out_dtype, const Layout& out, void* out_ptr, DType in_dtype, const Layout& in,
          const void* in_ptr, Stream) {
  dispatch_all(out_dtype, "copy", [&](auto out_tag) {
    using O = typename decltype(out_tag)::type;
    dispatch_all(in_dtype, "copy", [&](auto in_tag) {
      using I = typename decltype(in_tag)::type;
      O* o = static_cast<O*>(out_ptr);
      const I* x = static_cast<const I*>(in_ptr);
      for_each_offset<2>({out, in}, [&](int64_t, const std::array<int64_t, 2>& off) {
        o[off[0]] = cast_element<O>(x[off[1]]);
      });
    });
  });
}

}  // namespace simclr::cpu
