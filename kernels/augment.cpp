// The augmentation op: argument checks, the output, and the backend (kernels/augment.h).
#include "kernels/augment.h"

#include <algorithm>
#include <string>

#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace simclr {

namespace {

void check_policy(const AugmentPolicy& p, int64_t c) {
  SIMCLR_CHECK(p.out_h > 0 && p.out_w > 0, "augment: expected a positive output size, got ",
               p.out_h, " x ", p.out_w);
  SIMCLR_CHECK(0 < p.scale_min && p.scale_min <= p.scale_max && p.scale_max <= 1,
               "augment: expected 0 < scale_min <= scale_max <= 1, got [", p.scale_min, ", ",
               p.scale_max, "]");
  SIMCLR_CHECK(0 < p.ratio_min && p.ratio_min <= p.ratio_max,
               "augment: expected 0 < ratio_min <= ratio_max, got [", p.ratio_min, ", ",
               p.ratio_max, "]");
  SIMCLR_CHECK(p.strength >= 0, "augment: expected a non-negative jitter strength, got ",
               p.strength);
  SIMCLR_CHECK(0 < p.sigma_min && p.sigma_min <= p.sigma_max,
               "augment: expected 0 < sigma_min <= sigma_max, got [", p.sigma_min, ", ",
               p.sigma_max, "]");
  const int32_t k = augment_blur_kernel(p);
  SIMCLR_CHECK(!p.blur || (k % 2 == 1 && k <= kAugmentMaxBlurKernel),
               "augment: expected an odd blur kernel of at most ", kAugmentMaxBlurKernel, ", got ",
               k);
  SIMCLR_CHECK(!p.blur || (k / 2 < p.out_h && k / 2 < p.out_w), "augment: the blur kernel (", k,
               ") must be smaller than twice the output size (", p.out_h, " x ", p.out_w,
               ") for reflect padding");
  for (int64_t ch = 0; ch < c; ++ch)
    SIMCLR_CHECK(!p.normalize || p.std[ch] != 0, "augment: std[", ch, "] is zero");
}

void check_images(const Tensor& images, const char* op) {
  SIMCLR_CHECK(images.defined() && images.dtype() == DType::u8 && images.ndim() == 4, op,
               ": expected uint8 images [n, h, w, c], got ",
               images.defined() ? images.str() : std::string("an undefined tensor"));
  SIMCLR_CHECK(images.size(3) == 1 || images.size(3) == 3, op,
               ": expected 1 or 3 channels (NHWC), got ", images.str());
  SIMCLR_CHECK(images.size(0) > 0 && images.size(1) > 0 && images.size(2) > 0, op,
               ": expected non-empty images, got ", images.str());
}

}  // namespace

Tensor augment(const Tensor& images_u8, const Tensor& indices_i64, const AugmentPolicy& policy,
               uint64_t seed, uint64_t epoch, DType out_dtype) {
  NoGradGuard no_grad;
  check_images(images_u8, "augment");
  SIMCLR_CHECK(indices_i64.defined() && indices_i64.dtype() == DType::i64 &&
                   indices_i64.ndim() == 1 && indices_i64.size(0) == images_u8.size(0),
               "augment: expected int64 indices [", images_u8.size(0), "], got ",
               indices_i64.defined() ? indices_i64.str() : std::string("an undefined tensor"));
  check_same_device(images_u8, indices_i64, "augment");
  check_policy(policy, images_u8.size(3));
  const Tensor images = contiguous(images_u8);
  const Tensor indices = contiguous(indices_i64);
  const int64_t n = images.size(0), h = images.size(1), w = images.size(2), c = images.size(3);
  Tensor out = Tensor::empty({2 * n, policy.out_h, policy.out_w, c}, out_dtype, images.device());
  SIMCLR_DISPATCH(images.device(), augment, out_dtype, policy, n, h, w, c,
                  static_cast<const uint8_t*>(images.data_ptr()),
                  static_cast<const int64_t*>(indices.data_ptr()), seed, epoch, out.data_ptr(),
                  current_stream(images.device()));
  return out;
}

Tensor augment_with_params(const Tensor& images_u8, const std::vector<AugmentParams>& params,
                           const AugmentPolicy& policy, DType out_dtype) {
  NoGradGuard no_grad;
  check_images(images_u8, "augment_with_params");
  const int64_t n = images_u8.size(0), h = images_u8.size(1), w = images_u8.size(2),
                c = images_u8.size(3);
  const int64_t rows = static_cast<int64_t>(params.size());
  SIMCLR_CHECK(rows > 0 && rows % n == 0, "augment_with_params: expected a multiple of ", n,
               " parameter sets, got ", rows);
  check_policy(policy, c);
  for (int64_t r = 0; r < rows; ++r) {
    const AugmentParams& p = params[r];
    SIMCLR_CHECK(p.crop_height > 0 && p.crop_width > 0 && p.crop_top >= 0 && p.crop_left >= 0 &&
                     p.crop_top + p.crop_height <= h && p.crop_left + p.crop_width <= w,
                 "augment_with_params: the crop box of row ", r, " (top ", p.crop_top, ", left ",
                 p.crop_left, ", ", p.crop_height, " x ", p.crop_width, ") is not inside the ", h,
                 " x ", w, " image");
    SIMCLR_CHECK(!p.blur || p.sigma > 0, "augment_with_params: row ", r, " blurs with sigma ",
                 p.sigma);
    const int32_t k = augment_blur_kernel(policy);
    SIMCLR_CHECK(!p.blur || (k % 2 == 1 && k <= kAugmentMaxBlurKernel &&
                             k / 2 < std::min(policy.out_h, policy.out_w)),
                 "augment_with_params: row ", r, " blurs with a kernel of ", k,
                 ", expected odd, at most ", kAugmentMaxBlurKernel,
                 " and smaller than twice the output size");
  }
  const Tensor images = contiguous(images_u8);
  Tensor out = Tensor::empty({rows, policy.out_h, policy.out_w, c}, out_dtype, images.device());
  SIMCLR_DISPATCH(images.device(), augment_given, out_dtype, policy, n, rows, h, w, c,
                  static_cast<const uint8_t*>(images.data_ptr()), params.data(), out.data_ptr(),
                  current_stream(images.device()));
  return out;
}

}  // namespace simclr
