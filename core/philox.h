// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a counter-
// based generator. The same (key, counter) gives the same four 32-bit words on host and device,
// which is what lets CPU and GPU kernels (and 1 rank or 8) draw identical random numbers.
#pragma once

#include <cstdint>

#include "core/macros.h"

namespace simclr {

struct Philox4 {
  uint32_t v[4];
};

namespace detail {
SIMCLR_HD_INLINE uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
  uint64_t product = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(product >> 32);
  return static_cast<uint32_t>(product);
}
}  // namespace detail

SIMCLR_HD_INLINE Philox4 philox4x32_10(Philox4 counter, uint32_t key0, uint32_t key1) {
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, hi1;
    const uint32_t lo0 = detail::mulhilo(0xD2511F53u, counter.v[0], &hi0);
    const uint32_t lo1 = detail::mulhilo(0xCD9E8D57u, counter.v[2], &hi1);
    counter = Philox4{{hi1 ^ counter.v[1] ^ key0, lo1, hi0 ^ counter.v[3] ^ key1, lo0}};
    key0 += 0x9E3779B9u;
    key1 += 0xBB67AE85u;
  }
  return counter;
}

// The block of four words at position `index` of the stream (seed, subsequence).
SIMCLR_HD_INLINE Philox4 philox_block(uint64_t seed, uint64_t subsequence, uint64_t index) {
  Philox4 counter{{static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32),
                   static_cast<uint32_t>(subsequence), static_cast<uint32_t>(subsequence >> 32)}};
  return philox4x32_10(counter, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

// Exact conversions of random words to uniform floats: [0, 1) and (0, 1].
SIMCLR_HD_INLINE float uniform_float(uint32_t x) {
  return static_cast<float>(x >> 8) * 0x1p-24f;
}
SIMCLR_HD_INLINE float uniform_float_open0(uint32_t x) {
  return static_cast<float>((x >> 8) + 1u) * 0x1p-24f;
}
SIMCLR_HD_INLINE double uniform_double(uint32_t a, uint32_t b) {
  return (static_cast<double>(a >> 5) * 67108864.0 + static_cast<double>(b >> 6)) * 0x1p-53;
}

// A seed plus a running offset into its Philox stream: each draw of n blocks advances the offset,
// so successive random fills never reuse numbers and a run can be replayed from (seed, offset).
class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset) {
    seed_ = seed;
    offset_ = offset;
  }
  // Reserves `blocks` Philox blocks and returns the first one's index.
  uint64_t reserve(uint64_t blocks) {
    uint64_t first = offset_;
    offset_ += blocks;
    return first;
  }

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// The process-wide default generator (seeded with 0 until manual_seed is called).
Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace simclr
