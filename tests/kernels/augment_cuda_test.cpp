// [cuda] tests of the fused augmentation: the CUDA kernels against the CPU reference, pixel by
// pixel, for the same drawn parameters (seed, epoch, indices) and for given ones, on both CUDA
// paths: the one-pass kernel for views that fit in shared memory (28, 32, 24 and 48 px here; a
// blurred 48 x 48 x 3 view takes 54 KiB, beyond the 48 KiB a block gets without opting in) and
// the three-launch one (224 px).
#include "kernels/augment.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "cuda_test_util.h"
#include "kernels/backends.h"
#include "kernels/ops.h"

namespace {

using namespace simclr;
using test::kCpu;
using test::kCuda;

constexpr test::Tolerance kF32{1e-4, 1e-4};
constexpr test::Tolerance kBf16{2e-2, 2e-2};

Tensor random_images(int64_t n, int64_t h, int64_t w, int64_t c, uint64_t seed) {
  return to(test::random_tensor({n, h, w, c}, DType::f32, seed, 0.0, 255.99), DType::u8);
}

struct Size {
  int64_t n, h, w, c;
  int32_t out;
  bool one_pass;  // whether the views fit in shared memory (with blur too), on any sm_80+ GPU
};

const Size kSizes[] = {{6, 28, 28, 1, 28, true},
                       {5, 32, 32, 3, 32, true},
                       {2, 224, 224, 3, 224, false},
                       {3, 37, 45, 3, 24, true},
                       {2, 80, 72, 3, 48, true}};

// Requires that the batch takes the path the size is meant to cover. (A build without CUDA has
// no such function, and its [cuda] tests never run: they report themselves skipped.)
void require_path(const Size& s, const AugmentPolicy& policy, bool blur) {
#if SIMCLR_WITH_CUDA
  REQUIRE(cuda::augment_in_shared_memory(policy, s.c, blur, kCuda.index) == s.one_pass);
#else
  (void)s, (void)policy, (void)blur;
#endif
}

}  // namespace

TEST_CASE("augment on CUDA equals the CPU reference for the same seed, epoch and indices",
          "[cuda][kernels]") {
  for (const Size& s : kSizes) {
    for (const bool blur : {false, true}) {
      INFO(s.n << " x " << s.h << " x " << s.w << " x " << s.c << " -> " << s.out << ", blur "
               << blur);
      AugmentPolicy policy;
      policy.out_h = policy.out_w = s.out;
      policy.blur = blur;
      policy.mean[0] = 0.3f, policy.mean[1] = 0.4f, policy.mean[2] = 0.5f;
      policy.std[0] = 0.2f, policy.std[1] = 0.25f, policy.std[2] = 0.3f;
      require_path(s, policy, blur);
      const Tensor images = random_images(s.n, s.h, s.w, s.c, 100 + static_cast<uint64_t>(s.h));
      std::vector<int64_t> idx;
      for (int64_t i = 0; i < s.n; ++i) idx.push_back(1000 * i + 7);
      const Tensor indices = from_vector<int64_t>(idx, {s.n});
      for (const DType dtype : {DType::f32, DType::bf16}) {
        const Tensor want = augment(images, indices, policy, 2024, 3, dtype);
        const Tensor got = augment(to(images, kCuda), to(indices, kCuda), policy, 2024, 3, dtype);
        REQUIRE(got.device() == kCuda);
        REQUIRE(got.shape() == want.shape());
        SIMCLR_REQUIRE_CLOSE(to(got, kCpu), want, dtype == DType::f32 ? kF32 : kBf16);
      }
    }
  }
}

TEST_CASE("augment_with_params on CUDA equals the CPU reference, every step applied",
          "[cuda][kernels]") {
  for (const Size& s : kSizes) {
    INFO(s.n << " x " << s.h << " x " << s.w << " x " << s.c << " -> " << s.out);
    AugmentPolicy policy;
    policy.out_h = policy.out_w = s.out;
    policy.flip_p = policy.jitter_p = policy.grayscale_p = policy.blur_p = 1.0f;
    require_path(s, policy, true);
    const Tensor images = random_images(s.n, s.h, s.w, s.c, 200 + static_cast<uint64_t>(s.h));
    std::vector<AugmentParams> params;
    for (int64_t r = 0; r < 2 * s.n; ++r) {
      AugmentParams p =
          draw_augment_params(policy, static_cast<int32_t>(s.h), static_cast<int32_t>(s.w), 9, 1,
                              static_cast<uint64_t>(r), 0);
      p.grayscale = r % 3 == 0;  // grayscale hides the color steps: only on some rows
      p.blur = r % 2 == 0;
      params.push_back(p);
    }
    for (const DType dtype : {DType::f32, DType::bf16}) {
      const Tensor want = augment_with_params(images, params, policy, dtype);
      const Tensor got = augment_with_params(to(images, kCuda), params, policy, dtype);
      SIMCLR_REQUIRE_CLOSE(to(got, kCpu), want, dtype == DType::f32 ? kF32 : kBf16);
    }
  }
}
