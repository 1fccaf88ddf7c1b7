// Random fills and raw Philox bits. Each element's numbers depend only on (seed, block index), so
// the CUDA kernel, which gives each thread its own elements, produces the same tensor.
#include "kernels/backends.h"
#include "kernels/cpu/loops.h"
#include "kernels/random_element.h"

namespace simclr::cpu {

void philox_bits(uint32_t* out, int64_t n, uint64_t seed, uint64_t first_block, Stream) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = philox_block(seed, 0, first_block + static_cast<uint64_t>(i) / 4).v[i % 4];
}

void random(RandomKind kind, DType dtype, const Layout& out, void* out_ptr, uint64_t seed,
            uint64_t first_block, double a, double b, Stream) {
  dispatch_floating(dtype, "random", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* o = static_cast<T*>(out_ptr);
    for_each_offset<1>({out}, [&](int64_t i, const std::array<int64_t, 1>& off) {
      o[off[0]] = random_element<T>(kind, seed, first_block, i, a, b);
    });
  });
}

}  // namespace simclr::cpu
