// The pixel math of the SimCLR augmentation (kernels/augment.h), written once for the CPU reference
// and the CUDA kernels. Each function follows torchvision.transforms.functional on float tensors
// in [0, 1] (torchvision/transforms/functional_tensor.py), in fp32 as torchvision computes it.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/macros.h"
#include "kernels/augment.h"

namespace simclr::augment_math {

// rgb_to_grayscale's weights (torchvision follows TensorFlow: 0.2989, not 0.299).
constexpr float kGrayR = 0.2989f, kGrayG = 0.587f, kGrayB = 0.114f;

SIMCLR_HD_INLINE float clamp01(float x) {
  return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x);
}

// torchvision's _blend: (ratio * a + (1 - ratio) * b).clamp(0, 1).
SIMCLR_HD_INLINE float blend(float a, float b, float ratio) {
  return clamp01(ratio * a + (1.0f - ratio) * b);
}

SIMCLR_HD_INLINE float gray(const float* rgb) {
  return kGrayR * rgb[0] + kGrayG * rgb[1] + kGrayB * rgb[2];
}

// The luminance of one pixel: the grayscale of 3 channels, the value of 1.
SIMCLR_HD_INLINE float luminance(const float* px, int c) {
  return c == 3 ? gray(px) : px[0];
}

// adjust_brightness: blend with black.
SIMCLR_HD_INLINE void adjust_brightness(float* px, int c, float factor) {
  for (int ch = 0; ch < c; ++ch) px[ch] = blend(px[ch], 0.0f, factor);
}

// adjust_contrast: blend with the mean luminance of the whole image (computed beforehand).
SIMCLR_HD_INLINE void adjust_contrast(float* px, int c, float factor, float mean) {
  for (int ch = 0; ch < c; ++ch) px[ch] = blend(px[ch], mean, factor);
}

// adjust_saturation: blend with the pixel's grayscale; the identity on 1 channel.
SIMCLR_HD_INLINE void adjust_saturation(float* px, int c, float factor) {
  if (c != 3) return;
  const float g = gray(px);
  for (int ch = 0; ch < 3; ++ch) px[ch] = blend(px[ch], g, factor);
}

// adjust_hue: _rgb2hsv, h = (h + factor) % 1, _hsv2rgb; the identity on 1 channel.
SIMCLR_HD_INLINE void adjust_hue(float* px, int c, float factor) {
  if (c != 3) return;
  const float r = px[0], g = px[1], b = px[2];
  const float maxc = r > g ? (r > b ? r : b) : (g > b ? g : b);
  const float minc = r < g ? (r < b ? r : b) : (g < b ? g : b);
  const bool eqc = maxc == minc;
  const float cr = maxc - minc;
  const float s = cr / (eqc ? 1.0f : maxc);
  const float cr_divisor = eqc ? 1.0f : cr;
  const float rc = (maxc - r) / cr_divisor;
  const float gc = (maxc - g) / cr_divisor;
  const float bc = (maxc - b) / cr_divisor;
  const float hr = maxc == r ? bc - gc : 0.0f;
  const float hg = (maxc == g && maxc != r) ? 2.0f + rc - bc : 0.0f;
  const float hb = (maxc != g && maxc != r) ? 4.0f + gc - rc : 0.0f;
  float h = ::fmodf((hr + hg + hb) / 6.0f + 1.0f, 1.0f);
  // torch.remainder(h + factor, 1.0): fmod, moved into [0, 1) when negative.
  h = ::fmodf(h + factor, 1.0f);
  if (h < 0.0f) h += 1.0f;
  const float v = maxc;
  const float hi = ::floorf(h * 6.0f);
  const float f = h * 6.0f - hi;
  int i = static_cast<int>(hi) % 6;
  if (i < 0) i += 6;
  const float p = clamp01(v * (1.0f - s));
  const float q = clamp01(v * (1.0f - s * f));
  const float t = clamp01(v * (1.0f - s * (1.0f - f)));
  switch (i) {
    case 0:
      px[0] = v, px[1] = t, px[2] = p;
      break;
    case 1:
      px[0] = q, px[1] = v, px[2] = p;
      break;
    case 2:
      px[0] = p, px[1] = v, px[2] = t;
      break;
    case 3:
      px[0] = p, px[1] = q, px[2] = v;
      break;
    case 4:
      px[0] = t, px[1] = p, px[2] = v;
      break;
    default:
      px[0] = v, px[1] = p, px[2] = q;
      break;
  }
}

// rgb_to_grayscale with 3 output channels (RandomGrayscale); the identity on 1 channel.
SIMCLR_HD_INLINE void to_grayscale(float* px, int c) {
  if (c != 3) return;
  const float g = gray(px);
  px[0] = px[1] = px[2] = g;
}

// One jitter step (order code 0 brightness, 1 contrast, 2 saturation, 3 hue).
SIMCLR_HD_INLINE void jitter_step(int op, const AugmentParams& p, float* px, int c, float mean) {
  switch (op) {
    case 0:
      adjust_brightness(px, c, p.brightness);
      break;
    case 1:
      adjust_contrast(px, c, p.contrast, mean);
      break;
    case 2:
      adjust_saturation(px, c, p.saturation);
      break;
    default:
      adjust_hue(px, c, p.hue);
      break;
  }
}

// The position of contrast in the jitter order, or -1 when the view has no jitter.
SIMCLR_HD_INLINE int contrast_position(const AugmentParams& p) {
  if (!p.jitter) return -1;
  for (int k = 0; k < 4; ++k)
    if (p.order[k] == 1) return k;
  return -1;
}

// Bilinear interpolation as torch's upsample_bilinear2d with align_corners=False and no antialias:
// output index dst of out_size samples the input (in_size) at i0 and i1 with weights l0 and l1.
struct Tap {
  int32_t i0, i1;
  float l0, l1;
};

SIMCLR_HD_INLINE Tap bilinear_tap(int32_t dst, int32_t in_size, int32_t out_size) {
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  float src = scale * (static_cast<float>(dst) + 0.5f) - 0.5f;
  if (src < 0.0f) src = 0.0f;
  int32_t i0 = static_cast<int32_t>(src);
  if (i0 > in_size - 1) i0 = in_size - 1;
  const int32_t i1 = i0 + (i0 < in_size - 1 ? 1 : 0);
  const float l1 = src - static_cast<float>(i0);
  return Tap{i0, i1, 1.0f - l1, l1};
}

// Pixel (y, x) of the crop box of `src` ([h, w, c] uint8, values / 255) resized to oh x ow;
// `flip` mirrors x (hflip of the resized crop).
SIMCLR_HD_INLINE void resized_crop_pixel(const uint8_t* src, int32_t w, int c,
                                         const AugmentParams& p, int32_t oh, int32_t ow, int32_t y,
                                         int32_t x, bool flip, float* px) {
  const Tap ty = bilinear_tap(y, p.crop_height, oh);
  const Tap tx = bilinear_tap(flip ? ow - 1 - x : x, p.crop_width, ow);
  const int64_t row0 = static_cast<int64_t>(p.crop_top + ty.i0) * w;
  const int64_t row1 = static_cast<int64_t>(p.crop_top + ty.i1) * w;
  const int64_t col0 = p.crop_left + tx.i0, col1 = p.crop_left + tx.i1;
  for (int ch = 0; ch < c; ++ch) {
    const float v00 = static_cast<float>(src[(row0 + col0) * c + ch]) / 255.0f;
    const float v01 = static_cast<float>(src[(row0 + col1) * c + ch]) / 255.0f;
    const float v10 = static_cast<float>(src[(row1 + col0) * c + ch]) / 255.0f;
    const float v11 = static_cast<float>(src[(row1 + col1) * c + ch]) / 255.0f;
    px[ch] = ty.l0 * (tx.l0 * v00 + tx.l1 * v01) + ty.l1 * (tx.l0 * v10 + tx.l1 * v11);
  }
}

// torch's reflect padding index (valid for i in (-n, 2n - 1)); clamped beyond, where the kernels
// read values that no output uses.
SIMCLR_HD_INLINE int32_t reflect(int32_t i, int32_t n) {
  if (i < 0) i = -i;
  if (i > n - 1) i = 2 * (n - 1) - i;
  return i < 0 ? 0 : (i > n - 1 ? n - 1 : i);
}

// torchvision's _get_gaussian_kernel1d: exp(-0.5 (x / sigma)^2) at x = -(k-1)/2 .. (k-1)/2,
// divided by its sum (summed in order).
SIMCLR_HD_INLINE void gaussian_kernel1d(int32_t k, float sigma, float* weights) {
  const float half = static_cast<float>(k - 1) * 0.5f;
  float sum = 0.0f;
  for (int32_t j = 0; j < k; ++j) {
    const float x = (static_cast<float>(j) - half) / sigma;
    weights[j] = ::expf(-0.5f * (x * x));
    sum += weights[j];
  }
  for (int32_t j = 0; j < k; ++j) weights[j] /= sum;
}

// normalize: (x - mean) / std per channel; the identity when the policy turns it off.
SIMCLR_HD_INLINE float normalize(const AugmentPolicy& policy, float x, int ch) {
  return policy.normalize ? (x - policy.mean[ch]) / policy.std[ch] : x;
}

}  // namespace simclr::augment_math
