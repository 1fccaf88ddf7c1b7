// SimCLR augmentation (DESIGN.md, step 2): the policy, the per-view parameters and how they are
// drawn from Philox. Plain types and SIMCLR_HD functions, shared by the kernels (kernels/backends.h
// includes this) and the op (kernels/augment.h).
//
// The pipeline of one view, on float images in [0, 1] (the uint8 source divided by 255), each step
// as torchvision.transforms.functional defines it on tensors:
//   resized_crop (bilinear, align_corners=False, no antialias) -> hflip -> color jitter
//   (brightness, contrast, saturation, hue in a random order) -> rgb_to_grayscale (3 channels out)
//   -> gaussian_blur (reflect padding) -> normalize.
// For 1-channel images saturation, hue and grayscale are identities (as torchvision).
//
// Parameters of view v of the sample with data-set index i come from Philox4x32-10 with key
// augment_key(seed, epoch) and counter (i, v, block), so CPU and GPU, and 1 rank or 8, draw the
// same views for the same sample. The sampling follows torchvision's RandomResizedCrop (10
// attempts, then the center-crop fallback; Python's round-half-to-even), RandomHorizontalFlip,
// RandomApply(ColorJitter) (factors uniform in [max(0, 1 - b), 1 + b], hue in [-h, h], the order a
// uniform random permutation), RandomGrayscale and GaussianBlur. The arithmetic is fp64 with
// rint/log/exp/sqrt; a host and a device libm could in principle round a log or exp differently by
// one ulp and move a rounding boundary, which has not been observed.
//
// Output rows: view 0 of sample k is row k, view 1 is row k + n (the "n and n + N" convention).
#pragma once

#include <cmath>
#include <cstdint>

#include "core/macros.h"
#include "core/philox.h"

namespace simclr {

// The parameters of one view. Crop boxes are in source pixels; the box is resized to the policy's
// output size. order[k] is the k-th jitter step applied: 0 brightness, 1 contrast, 2 saturation,
// 3 hue (torchvision's fn_idx).
struct AugmentParams {
  int32_t crop_top = 0, crop_left = 0, crop_height = 0, crop_width = 0;
  bool flip = false;
  bool jitter = false;
  float brightness = 1.0f, contrast = 1.0f, saturation = 1.0f, hue = 0.0f;
  int32_t order[4] = {0, 1, 2, 3};
  bool grayscale = false;
  bool blur = false;
  float sigma = 1.0f;
};

// The SimCLR policy (Chen et al. 2020, appendix A), every step switchable. Defaults are the paper's
// ImageNet policy at strength s = 1; a 28-32 px data set usually turns blur off.
struct AugmentPolicy {
  int32_t out_h = 32, out_w = 32;

  bool crop = true;  // off: the whole image, resized to the output size
  float scale_min = 0.08f, scale_max = 1.0f;
  float ratio_min = 3.0f / 4.0f, ratio_max = 4.0f / 3.0f;

  bool flip = true;
  float flip_p = 0.5f;

  bool jitter = true;
  float jitter_p = 0.8f;
  float strength = 1.0f;  // brightness, contrast, saturation 0.8 s; hue 0.2 s (at most 0.5)

  bool grayscale = true;
  float grayscale_p = 0.2f;

  bool blur = true;
  float blur_p = 0.5f;
  float sigma_min = 0.1f, sigma_max = 2.0f;
  int32_t blur_kernel = 0;  // 0: 10% of the output's shorter side, made odd (at least 3)

  bool normalize = true;
  float mean[3] = {0.5f, 0.5f, 0.5f};
  float std[3] = {0.5f, 0.5f, 0.5f};
};

// The largest blur kernel the kernels support (output sides up to ~990 px with the 10% rule).
constexpr int32_t kAugmentMaxBlurKernel = 99;

SIMCLR_HD_INLINE int32_t augment_blur_kernel(const AugmentPolicy& p) {
  if (p.blur_kernel > 0) return p.blur_kernel;
  const int32_t side = p.out_h < p.out_w ? p.out_h : p.out_w;
  int32_t k = static_cast<int32_t>(0.1 * side);
  if (k % 2 == 0) k += 1;
  return k < 3 ? 3 : k;
}

SIMCLR_HD_INLINE uint64_t augment_splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The Philox key of an epoch: the seed mixed with the epoch.
SIMCLR_HD_INLINE uint64_t augment_key(uint64_t seed, uint64_t epoch) {
  return augment_splitmix64(seed ^ augment_splitmix64(epoch ^ 0x5A17C1A5A0E1D0C5ull));
}

// A stream of uniform doubles in [0, 1) from the Philox blocks (index, view, block), starting at
// `block`: each step of the sampling reads its own block range, so turning one step off does not
// change the others' draws.
struct AugmentRng {
  uint64_t key;
  uint64_t index;
  uint32_t view;
  uint32_t block;
  int word = 4;
  Philox4 r{};

  SIMCLR_HD_INLINE double uniform() {
    if (word >= 4) {
      const Philox4 counter{
          {static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32), view, block++}};
      r = philox4x32_10(counter, static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32));
      word = 0;
    }
    const double u = uniform_double(r.v[word], r.v[word + 1]);
    word += 2;
    return u;
  }
  // Uniform in [a, b).
  SIMCLR_HD_INLINE double uniform(double a, double b) { return a + (b - a) * uniform(); }
  // Uniform integer in [0, n) (n >= 1), torch.randint(0, n).
  SIMCLR_HD_INLINE int32_t below(int32_t n) {
    const int32_t v = static_cast<int32_t>(uniform() * n);
    return v < n ? v : n - 1;
  }
};

// Python's int(round(x)): round half to even (rint under the default rounding mode).
SIMCLR_HD_INLINE int32_t augment_round(double x) {
  return static_cast<int32_t>(::rint(x));
}

// Draws the parameters of view `view` of the sample with data-set index `index` of an h x w source.
SIMCLR_HD_INLINE AugmentParams draw_augment_params(const AugmentPolicy& policy, int32_t h,
                                                   int32_t w, uint64_t seed, uint64_t epoch,
                                                   uint64_t index, uint32_t view) {
  const uint64_t key = augment_key(seed, epoch);
  AugmentParams p;
  p.crop_top = 0;
  p.crop_left = 0;
  p.crop_height = h;
  p.crop_width = w;
  if (policy.crop) {
    // torchvision RandomResizedCrop.get_params: blocks 16.. (10 attempts use at most 20 blocks).
    AugmentRng rng{key, index, view, 16};
    const double area = static_cast<double>(h) * w;
    const double log_r0 = ::log(static_cast<double>(policy.ratio_min));
    const double log_r1 = ::log(static_cast<double>(policy.ratio_max));
    bool found = false;
    for (int attempt = 0; attempt < 10 && !found; ++attempt) {
      const double target_area = area * rng.uniform(policy.scale_min, policy.scale_max);
      const double aspect = ::exp(rng.uniform(log_r0, log_r1));
      const int32_t cw = augment_round(::sqrt(target_area * aspect));
      const int32_t ch = augment_round(::sqrt(target_area / aspect));
      if (0 < cw && cw <= w && 0 < ch && ch <= h) {
        p.crop_top = rng.below(h - ch + 1);
        p.crop_left = rng.below(w - cw + 1);
        p.crop_height = ch;
        p.crop_width = cw;
        found = true;
      }
    }
    if (!found) {  // the central-crop fallback
      const double in_ratio = static_cast<double>(w) / h;
      int32_t cw = w, ch = h;
      if (in_ratio < policy.ratio_min) {
        ch = augment_round(cw / static_cast<double>(policy.ratio_min));
      } else if (in_ratio > policy.ratio_max) {
        cw = augment_round(ch * static_cast<double>(policy.ratio_max));
      }
      p.crop_top = (h - ch) / 2;
      p.crop_left = (w - cw) / 2;
      p.crop_height = ch;
      p.crop_width = cw;
    }
  }
  // The other steps: blocks 0..5 (at most 11 doubles); sigma: block 8.
  AugmentRng rng{key, index, view, 0};
  const double u_flip = rng.uniform();
  const double u_jitter = rng.uniform();
  const double u_gray = rng.uniform();
  const double u_blur = rng.uniform();
  p.flip = policy.flip && u_flip < policy.flip_p;
  p.jitter = policy.jitter && u_jitter < policy.jitter_p;
  if (p.jitter) {
    // ColorJitter.get_params: a random permutation (Fisher-Yates), then the four factors.
    for (int k = 3; k > 0; --k) {
      const int j = rng.below(k + 1);
      const int32_t t = p.order[k];
      p.order[k] = p.order[j];
      p.order[j] = t;
    }
    const double s = policy.strength;
    const double b = 0.8 * s, c = 0.8 * s, sat = 0.8 * s;
    const double hue = 0.2 * s < 0.5 ? 0.2 * s : 0.5;
    p.brightness = static_cast<float>(rng.uniform(1.0 - b > 0 ? 1.0 - b : 0.0, 1.0 + b));
    p.contrast = static_cast<float>(rng.uniform(1.0 - c > 0 ? 1.0 - c : 0.0, 1.0 + c));
    p.saturation = static_cast<float>(rng.uniform(1.0 - sat > 0 ? 1.0 - sat : 0.0, 1.0 + sat));
    p.hue = static_cast<float>(rng.uniform(-hue, hue));
  }
  p.grayscale = policy.grayscale && u_gray < policy.grayscale_p;
  p.blur = policy.blur && u_blur < policy.blur_p;
  if (p.blur) {
    AugmentRng srng{key, index, view, 8};
    p.sigma = static_cast<float>(srng.uniform(policy.sigma_min, policy.sigma_max));
  }
  return p;
}

}  // namespace simclr
