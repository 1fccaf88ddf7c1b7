// binary: out = op(a, b) with a and b broadcast to out's sizes. When all three are contiguous
// (gradient accumulation in the backward adds whole activations) the op is fixed at compile time
// and the loop runs vectorized on ranges spread over the CPU thread pool; any other layout walks
// the odometer of kernels/cpu/loops.h.
#include <utility>

#include "kernels/backends.h"
#include "kernels/cast.h"
#include "kernels/cpu/loops.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/simd.h"
#include "kernels/elementwise_math.h"

namespace simclr::cpu {

namespace {

// Elements per piece of a contiguous op.
constexpr int64_t kGrain = int64_t{1} << 15;

template <typename T, typename A, BinaryOp kOp>
SIMCLR_CPU_CLONES void binary_range(const T* x, const T* y, T* o, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i)
    o[i] = cast_element<T>(binary_forward<A>(kOp, cast_element<A>(x[i]), cast_element<A>(y[i])));
}

template <typename T, typename A, BinaryOp... kOps>
void binary_contiguous(BinaryOp op, const T* x, const T* y, T* o, int64_t n) {
  using Fn = void (*)(const T*, const T*, T*, int64_t, int64_t);
  Fn fn = nullptr;
  ((fn = op == kOps ? &binary_range<T, A, kOps> : fn), ...);
  parallel_ranges(n, kGrain, [&](int64_t begin, int64_t end) { fn(x, y, o, begin, end); });
}

}  // namespace

void binary(BinaryOp op, DType dtype, const Layout& out, void* out_ptr, const Layout& a,
            const void* a_ptr, const Layout& b, const void* b_ptr, Stream) {
  dispatch_floating(dtype, "binary", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    T* o = static_cast<T*>(out_ptr);
    const T* x = static_cast<const T*>(a_ptr);
    const T* y = static_cast<const T*>(b_ptr);
    if (out.contiguous() && a.contiguous() && b.contiguous()) {
      binary_contiguous<T, A, BinaryOp::add, BinaryOp::sub, BinaryOp::mul, BinaryOp::div,
                        BinaryOp::maximum, BinaryOp::minimum, BinaryOp::eq, BinaryOp::gt>(
          op, x, y, o, out.numel());
      return;
    }
    for_each_offset<3>({out, a, b}, [&](int64_t, const std::array<int64_t, 3>& off) {
      o[off[0]] = cast_element<T>(
          binary_forward<A>(op, cast_element<A>(x[off[1]]), cast_element<A>(y[off[2]])));
    });
  });
}

}  // namespace simclr::cpu
