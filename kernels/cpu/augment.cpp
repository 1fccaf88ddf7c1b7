// The SimCLR augmentation, the readable reference: each view is built step by step on a whole
// float image, in torchvision's order (resized crop, flip, jitter in the view's order, grayscale,
// blur, normalize), with the per-pixel math of kernels/augment_math.h.
#include "kernels/augment.h"

#include <algorithm>
#include <vector>

#include "kernels/augment_math.h"
#include "kernels/cast.h"

namespace simclr::cpu {

namespace {

namespace am = augment_math;

// The mean luminance of an image of `pixels` pixels (adjust_contrast's mean), summed in fp64.
float mean_luminance(const std::vector<float>& img, int64_t pixels, int c) {
  double sum = 0.0;
  for (int64_t i = 0; i < pixels; ++i) sum += am::luminance(&img[i * c], c);
  return static_cast<float>(sum / static_cast<double>(pixels));
}

// One view of `src` ([h, w, c]) under `p`: [oh, ow, c] floats, normalized.
void augment_view(const AugmentPolicy& policy, const AugmentParams& p, const uint8_t* src,
                  int32_t w, int c, float* out) {
  const int32_t oh = policy.out_h, ow = policy.out_w;
  const int64_t pixels = static_cast<int64_t>(oh) * ow;
  std::vector<float> img(static_cast<size_t>(pixels * c));
  auto at = [&](int32_t y, int32_t x) { return &img[(static_cast<int64_t>(y) * ow + x) * c]; };

  // 1. Resized crop.
  for (int32_t y = 0; y < oh; ++y)
    for (int32_t x = 0; x < ow; ++x)
      am::resized_crop_pixel(src, w, c, p, oh, ow, y, x, false, at(y, x));

  // 2. Horizontal flip.
  if (p.flip) {
    for (int32_t y = 0; y < oh; ++y)
      for (int32_t x = 0; x < ow / 2; ++x)
        for (int ch = 0; ch < c; ++ch) std::swap(at(y, x)[ch], at(y, ow - 1 - x)[ch]);
  }

  // 3. Color jitter, one whole-image step at a time; contrast blends with the current mean.
  if (p.jitter) {
    for (int k = 0; k < 4; ++k) {
      const int op = p.order[k];
      const float mean = op == 1 ? mean_luminance(img, pixels, c) : 0.0f;
      for (int64_t i = 0; i < pixels; ++i) am::jitter_step(op, p, &img[i * c], c, mean);
    }
  }

  // 4. Grayscale.
  if (p.grayscale)
    for (int64_t i = 0; i < pixels; ++i) am::to_grayscale(&img[i * c], c);

  // 5. Gaussian blur: horizontal then vertical pass, reflect padding.
  if (p.blur) {
    const int32_t k = augment_blur_kernel(policy), radius = k / 2;
    std::vector<float> weights(static_cast<size_t>(k));
    am::gaussian_kernel1d(k, p.sigma, weights.data());
    std::vector<float> tmp(img.size());
    for (int32_t y = 0; y < oh; ++y)
      for (int32_t x = 0; x < ow; ++x)
        for (int ch = 0; ch < c; ++ch) {
          float acc = 0.0f;
          for (int32_t j = 0; j < k; ++j)
            acc += weights[j] * at(y, am::reflect(x - radius + j, ow))[ch];
          tmp[(static_cast<int64_t>(y) * ow + x) * c + ch] = acc;
        }
    for (int32_t y = 0; y < oh; ++y)
      for (int32_t x = 0; x < ow; ++x)
        for (int ch = 0; ch < c; ++ch) {
          float acc = 0.0f;
          for (int32_t i = 0; i < k; ++i)
            acc += weights[i] *
                   tmp[(static_cast<int64_t>(am::reflect(y - radius + i, oh)) * ow + x) * c + ch];
          at(y, x)[ch] = acc;
        }
  }

  // 6. Normalize.
  for (int64_t i = 0; i < pixels; ++i)
    for (int ch = 0; ch < c; ++ch) out[i * c + ch] = am::normalize(policy, img[i * c + ch], ch);
}

}  // namespace

void augment_given(DType out_dtype, const AugmentPolicy& policy, int64_t n, int64_t rows, int64_t h,
                   int64_t w, int64_t c, const uint8_t* images, const AugmentParams* params,
                   void* out, Stream) {
  const int64_t view_size = static_cast<int64_t>(policy.out_h) * policy.out_w * c;
  std::vector<float> view(static_cast<size_t>(view_size));
  dispatch_floating(out_dtype, "augment", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* o = static_cast<T*>(out);
    for (int64_t r = 0; r < rows; ++r) {
      augment_view(policy, params[r], images + (r % n) * h * w * c, static_cast<int32_t>(w),
                   static_cast<int>(c), view.data());
      for (int64_t i = 0; i < view_size; ++i) o[r * view_size + i] = cast_element<T>(view[i]);
    }
  });
}

void augment(DType out_dtype, const AugmentPolicy& policy, int64_t n, int64_t h, int64_t w,
             int64_t c, const uint8_t* images, const int64_t* indices, uint64_t seed,
             uint64_t epoch, void* out, Stream stream) {
  std::vector<AugmentParams> params(static_cast<size_t>(2 * n));
  for (int64_t r = 0; r < 2 * n; ++r)
    params[r] =
        draw_augment_params(policy, static_cast<int32_t>(h), static_cast<int32_t>(w), seed, epoch,
                            static_cast<uint64_t>(indices[r % n]), static_cast<uint32_t>(r / n));
  augment_given(out_dtype, policy, n, 2 * n, h, w, c, images, params.data(), out, stream);
}

}  // namespace simclr::cpu
