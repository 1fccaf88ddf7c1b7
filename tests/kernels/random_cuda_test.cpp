// [cuda] tests of the Philox random numbers: the raw words are bit-identical on both backends, so
// uniform fills (exact integer-to-float conversions) are equal and normal fills (sin, cos, log on
// each backend's math library) are equal to an ulp or two.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cuda_test_util.h"
#include "kernels/backends.h"
#include "kernels/ops.h"

namespace {

using namespace simclr;
using test::kCpu;
using test::kCuda;
using test::require_same_bytes;

constexpr test::DTypeTolerances kNormalTol{
    .f64 = {1e-12, 1e-12}, .f32 = {1e-5, 1e-5}, .bf16 = {2e-2, 2e-2}, .f16 = {4e-3, 4e-3}};

}  // namespace

#if SIMCLR_WITH_CUDA
TEST_CASE("philox_bits on CUDA equals the CPU kernel word for word", "[cuda][kernels][random]") {
  const uint64_t seeds[] = {0, 1, 0x9E3779B97F4A7C15ull, 0xFFFFFFFFull, 0x123456789ABCDEFull};
  // Offsets inside a word, around the 32-bit carry of the block counter, and far out.
  const uint64_t first_blocks[] = {0, 1, 7, 0xFFFFFFFFull - 3, 0x100000000ull, 0xFFFFFFFFFFFFull};
  for (int64_t n : {1, 3, 4, 5, 4099}) {
    for (uint64_t seed : seeds) {
      for (uint64_t first : first_blocks) {
        INFO("n " << n << " seed " << seed << " first_block " << first);
        Tensor host = Tensor::empty({n}, DType::i32, kCpu);
        Tensor dev = Tensor::empty({n}, DType::i32, kCuda);
        cpu::philox_bits(static_cast<uint32_t*>(host.data_ptr()), n, seed, first,
                         current_stream(kCpu));
        cuda::philox_bits(static_cast<uint32_t*>(dev.data_ptr()), n, seed, first,
                          current_stream(kCuda));
        const Tensor back = to(dev, kCpu);
        REQUIRE(std::memcmp(back.data_ptr(), host.data_ptr(), host.nbytes()) == 0);
        // The kernel writes the words of philox_block, in order.
        const auto* words = static_cast<const uint32_t*>(back.data_ptr());
        const Philox4 block = philox_block(seed, 0, first);
        for (int64_t i = 0; i < std::min<int64_t>(n, 4); ++i) REQUIRE(words[i] == block.v[i]);
      }
    }
  }
}

TEST_CASE("philox_bits on CUDA writes nothing past n", "[cuda][kernels][random]") {
  // 4099 words into a view of the first 4099 elements of a poisoned 4103-word buffer.
  Tensor dev = Tensor::empty({4103}, DType::i32, kCuda);
  fill_(dev, -1.0);
  cuda::philox_bits(static_cast<uint32_t*>(dev.data_ptr()), 4099, 5, 9, current_stream(kCuda));
  const Tensor back = to(dev, kCpu);
  const auto* words = static_cast<const uint32_t*>(back.data_ptr());
  for (int i = 4099; i < 4103; ++i) REQUIRE(words[i] == 0xFFFFFFFFu);
  std::vector<uint32_t> expect(4099);
  cpu::philox_bits(expect.data(), 4099, 5, 9, current_stream(kCpu));
  REQUIRE(std::memcmp(words, expect.data(), expect.size() * sizeof(uint32_t)) == 0);
}
#endif

TEST_CASE("rand on CUDA equals rand on the CPU exactly", "[cuda][kernels][random]") {
  const DType dtype = GENERATE(DType::f32, DType::f64, DType::bf16, DType::f16);
  INFO("dtype " << dtype_name(dtype));
  for (int64_t n : {1, 3, 17, 33, 129, 1000, 4097}) {
    for (uint64_t seed : {0ull, 42ull, 0xDEADBEEFCAFEull}) {
      INFO("n " << n << " seed " << seed);
      Generator gen_r(seed), gen_c(seed);
      const Tensor r1 = rand({n}, dtype, kCpu, &gen_r);
      const Tensor c1 = rand({n}, dtype, kCuda, &gen_c);
      REQUIRE(c1.device() == kCuda);
      require_same_bytes(c1, r1);
      REQUIRE(gen_c.offset() == gen_r.offset());
      // The next draw continues the stream identically (and differs from the first).
      const Tensor r2 = rand({n, 3}, dtype, kCpu, &gen_r);
      const Tensor c2 = rand({n, 3}, dtype, kCuda, &gen_c);
      require_same_bytes(c2, r2);
      REQUIRE(gen_c.offset() == gen_r.offset());
      for (double v : test::values(c2)) {
        REQUIRE(v >= 0.0);
        REQUIRE(v <= 1.0);  // [0, 1) before rounding to the 16-bit types
      }
    }
  }
}

TEST_CASE("uniform_ on CUDA through a strided view equals the CPU", "[cuda][kernels][random]") {
  const DType dtype = GENERATE(DType::f32, DType::bf16, DType::f16);
  INFO("dtype " << dtype_name(dtype));
  // Integer bounds keep a + (b - a) * u exact in double on both backends, fused or not.
  Tensor base_c = full({9, 13}, 7.0, dtype, kCuda);
  Tensor base_r = full({9, 13}, 7.0, dtype, kCpu);
  Generator gen_c(77), gen_r(77);
  Tensor view_c = transpose(slice(base_c, 1, 2, 13, 3), 0, 1);
  Tensor view_r = transpose(slice(base_r, 1, 2, 13, 3), 0, 1);
  uniform_(view_c, -2.0, 3.0, &gen_c);
  uniform_(view_r, -2.0, 3.0, &gen_r);
  require_same_bytes(base_c, base_r);
  int64_t untouched = 0;
  for (double v : test::values(base_c)) untouched += v == 7.0 ? 1 : 0;
  REQUIRE(untouched == 9 * 13 - 9 * 4);
  for (double v : test::values(view_c)) {
    REQUIRE(v >= -2.0);
    REQUIRE(v <= 3.0);
  }
}

TEST_CASE("uniform_ in f64 on CUDA over a general range matches the CPU closely",
          "[cuda][kernels][random]") {
  // a + (b - a) * u may be fused on the device: equal to the last bit or one ulp away.
  Generator gen_c(5), gen_r(5);
  Tensor c = Tensor::empty({4097}, DType::f64, kCuda);
  Tensor r = Tensor::empty({4097}, DType::f64, kCpu);
  uniform_(c, -0.3, 0.7, &gen_c);
  uniform_(r, -0.3, 0.7, &gen_r);
  SIMCLR_REQUIRE_CLOSE(c, r, (test::Tolerance{1e-15, 1e-15}));
}

TEST_CASE("randn on CUDA matches randn on the CPU", "[cuda][kernels][random]") {
  const DType dtype = GENERATE(DType::f32, DType::f64, DType::bf16, DType::f16);
  INFO("dtype " << dtype_name(dtype));
  for (int64_t n : {1, 2, 3, 17, 129, 4097}) {
    INFO("n " << n);
    Generator gen_r(1234), gen_c(1234);
    const Tensor r = randn({n}, dtype, kCpu, &gen_r);
    const Tensor c = randn({n}, dtype, kCuda, &gen_c);
    REQUIRE(c.device() == kCuda);
    SIMCLR_REQUIRE_CLOSE(c, r, kNormalTol(dtype));
    REQUIRE(gen_c.offset() == gen_r.offset());
  }
  // normal_ with a mean and std on a stepped view.
  Generator gen_r(99), gen_c(99);
  Tensor base_r = full({2, 1001}, 0.0, dtype, kCpu);
  Tensor base_c = full({2, 1001}, 0.0, dtype, kCuda);
  Tensor view_r = slice(base_r, 1, 0, 1001, 2);
  Tensor view_c = slice(base_c, 1, 0, 1001, 2);
  normal_(view_r, 2.0, 0.5, &gen_r);
  normal_(view_c, 2.0, 0.5, &gen_c);
  SIMCLR_REQUIRE_CLOSE(base_c, base_r, kNormalTol(dtype));
}

TEST_CASE("randn on CUDA has the moments of a standard normal", "[cuda][kernels][random]") {
  Generator gen(2024);
  const Tensor c = randn({100003}, DType::f32, kCuda, &gen);
  const double m = item(mean(c));
  const double var = item(mean(square(c))) - m * m;
  REQUIRE(std::abs(m) < 0.02);
  REQUIRE(std::abs(var - 1.0) < 0.03);
  // Never NaN or infinite (u1 is drawn from (0, 1]).
  REQUIRE(std::isfinite(item(sum(c))));
}
