// reduce: for each output element, folds its reduced elements in row-major order.
#include "kernels/backends.h"
#include "kernels/cast.h"
#include "kernels/cpu/loops.h"
#include "kernels/elementwise_math.h"

namespace simclr::cpu {

void reduce(ReduceOp op, DType dtype, void* out_ptr, const Layout& kept, const Layout& reduced,
            const void* in_ptr, Stream) {
  dispatch_floating(dtype, "reduce", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    T* o = static_cast<T*>(out_ptr);
    const T* x = static_cast<const T*>(in_ptr);
    const int64_t count = reduced.numel();
    for_each_offset<1>({kept}, [&](int64_t k, const std::array<int64_t, 1>& base) {
      A acc = reduce_identity<A>(op);
      for_each_offset<1>({reduced}, [&](int64_t, const std::array<int64_t, 1>& off) {
        acc = reduce_merge<A>(op, acc, reduce_element<A>(op, cast_element<A>(x[base[0] + off[0]])));
      });
      o[k] = cast_element<T>(reduce_finish<A>(op, acc, count));
    });
  });
}

}  // namespace simclr::cpu
