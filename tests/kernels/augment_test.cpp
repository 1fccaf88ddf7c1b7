// The SimCLR augmentation's CPU reference: each step against torchvision at fixed parameters
// (tests/data/make_augment_fixture.py), the statistics of the drawn parameters, and determinism.
#include "kernels/augment.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "core/safetensors.h"
#include "kernels/ops.h"
#include "test_util.h"

namespace simclr {
namespace {

const SafetensorsData& fixture() {
  static const SafetensorsData data =
      load_safetensors(std::string(SIMCLR_TEST_DATA_DIR) + "/augment.safetensors");
  return data;
}

const Tensor& fixture_tensor(const std::string& name) {
  const Tensor* t = fixture().find(name);
  INFO("fixture tensor " << name);
  REQUIRE(t != nullptr);
  return *t;
}

// The full 17 x 23 box, nothing else: the identity at the source's size.
AugmentParams identity() {
  AugmentParams p;
  p.crop_top = 0;
  p.crop_left = 0;
  p.crop_height = 17;
  p.crop_width = 23;
  return p;
}

AugmentPolicy plain(int32_t oh = 17, int32_t ow = 23) {
  AugmentPolicy policy;
  policy.out_h = oh;
  policy.out_w = ow;
  policy.normalize = false;
  return policy;
}

AugmentParams jittered(float b, float c, float s, float h, std::vector<int32_t> order) {
  AugmentParams p = identity();
  p.jitter = true;
  p.brightness = b;
  p.contrast = c;
  p.saturation = s;
  p.hue = h;
  for (int k = 0; k < 4; ++k) p.order[k] = order[k];
  return p;
}

struct Case {
  std::string name;
  AugmentPolicy policy;
  AugmentParams params;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  {
    AugmentParams p = identity();
    p.crop_top = 2, p.crop_left = 3, p.crop_height = 11, p.crop_width = 15;
    out.push_back({"crop", plain(13, 19), p});
  }
  {
    AugmentParams p = identity();
    p.crop_top = 5, p.crop_left = 1, p.crop_height = 7, p.crop_width = 9;
    out.push_back({"crop_up", plain(20, 29), p});
  }
  {
    AugmentParams p = identity();
    p.flip = true;
    out.push_back({"flip", plain(), p});
  }
  out.push_back({"brightness", plain(), jittered(1.37f, 1, 1, 0, {0, 1, 2, 3})});
  out.push_back({"contrast", plain(), jittered(1, 0.55f, 1, 0, {1, 0, 2, 3})});
  out.push_back({"saturation", plain(), jittered(1, 1, 1.6f, 0, {2, 0, 1, 3})});
  out.push_back({"hue", plain(), jittered(1, 1, 1, 0.23f, {3, 0, 1, 2})});
  out.push_back({"hue_neg", plain(), jittered(1, 1, 1, -0.41f, {3, 0, 1, 2})});
  {
    AugmentParams p = identity();
    p.grayscale = true;
    out.push_back({"grayscale", plain(), p});
  }
  {
    AugmentParams p = identity();
    p.blur = true;
    p.sigma = 1.3f;
    AugmentPolicy policy = plain();
    policy.blur_kernel = 5;
    out.push_back({"blur", policy, p});
  }
  {
    AugmentPolicy policy = plain();
    policy.normalize = true;
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    for (int ch = 0; ch < 3; ++ch) policy.mean[ch] = mean[ch], policy.std[ch] = std[ch];
    out.push_back({"normalize", policy, identity()});
  }
  out.push_back({"jitter_order", plain(), jittered(0.7f, 1.45f, 0.35f, -0.12f, {3, 1, 0, 2})});
  {
    AugmentParams p = jittered(1.2f, 0.6f, 1.5f, 0.3f, {2, 0, 3, 1});
    p.crop_top = 1, p.crop_left = 4, p.crop_height = 14, p.crop_width = 16;
    p.flip = true;
    p.blur = true;
    p.sigma = 0.7f;
    AugmentPolicy policy = plain(15, 15);
    policy.blur_kernel = 3;
    policy.normalize = true;
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    for (int ch = 0; ch < 3; ++ch) policy.mean[ch] = mean[ch], policy.std[ch] = std[ch];
    out.push_back({"full", policy, p});
  }
  return out;
}

}  // namespace

TEST_CASE("augment: each step matches torchvision at fixed parameters", "[kernels]") {
  for (const char* image : {"rgb", "gray"}) {
    const Tensor src = fixture_tensor(std::string(image) + ".image");
    const Tensor batch = reshape(src, {1, src.size(0), src.size(1), src.size(2)});
    for (const Case& c : cases()) {
      INFO(image << "." << c.name);
      const Tensor expected = fixture_tensor(std::string(image) + "." + c.name);
      const Tensor got = augment_with_params(batch, {c.params}, c.policy, DType::f32);
      REQUIRE(got.shape() == Shape({1, expected.size(0), expected.size(1), expected.size(2)}));
      SIMCLR_REQUIRE_CLOSE(reshape(got, expected.shape()), expected, (test::Tolerance{1e-5, 2e-5}));
    }
  }
}

TEST_CASE("augment: drawn parameters follow the policy's probabilities and bounds", "[kernels]") {
  const AugmentPolicy policy;  // the SimCLR defaults
  const int32_t h = 32, w = 48;
  const int draws = 10000;
  int flips = 0, jitters = 0, grays = 0, blurs = 0, fallbacks = 0;
  int order_first[4] = {0, 0, 0, 0};
  for (int i = 0; i < draws; ++i) {
    const AugmentParams p = draw_augment_params(policy, h, w, 7, 3, static_cast<uint64_t>(i / 2),
                                                static_cast<uint32_t>(i % 2));
    flips += p.flip;
    jitters += p.jitter;
    grays += p.grayscale;
    blurs += p.blur;
    INFO("draw " << i << ": box " << p.crop_top << " " << p.crop_left << " " << p.crop_height << " "
                 << p.crop_width);
    REQUIRE(p.crop_top >= 0);
    REQUIRE(p.crop_left >= 0);
    REQUIRE(p.crop_height > 0);
    REQUIRE(p.crop_width > 0);
    REQUIRE(p.crop_top + p.crop_height <= h);
    REQUIRE(p.crop_left + p.crop_width <= w);
    const double area = static_cast<double>(p.crop_height) * p.crop_width / (h * w);
    const double ratio = static_cast<double>(p.crop_width) / p.crop_height;
    if (p.crop_height == h && p.crop_width == w) {
      ++fallbacks;  // whole image: the fallback (or a full-area draw)
    } else {
      // Rounding the box to whole pixels moves scale and ratio a little past the bounds.
      REQUIRE(area >= 0.08 * 0.85);
      REQUIRE(area <= 1.0);
      REQUIRE(ratio >= 0.75 * 0.85);
      REQUIRE(ratio <= 4.0 / 3.0 / 0.85);
    }
    if (p.jitter) {
      REQUIRE(p.brightness >= 0.2f);
      REQUIRE(p.brightness <= 1.8f);
      REQUIRE(p.contrast >= 0.2f);
      REQUIRE(p.contrast <= 1.8f);
      REQUIRE(p.saturation >= 0.2f);
      REQUIRE(p.saturation <= 1.8f);
      REQUIRE(std::abs(p.hue) <= 0.2f);
      int seen = 0;
      for (int k = 0; k < 4; ++k) seen |= 1 << p.order[k];
      REQUIRE(seen == 15);
      ++order_first[p.order[0]];
    }
    if (p.blur) {
      REQUIRE(p.sigma >= 0.1f);
      REQUIRE(p.sigma <= 2.0f);
    }
  }
  CHECK(std::abs(flips / double(draws) - 0.5) <= 0.02);
  CHECK(std::abs(jitters / double(draws) - 0.8) <= 0.02);
  CHECK(std::abs(grays / double(draws) - 0.2) <= 0.02);
  CHECK(std::abs(blurs / double(draws) - 0.5) <= 0.02);
  CHECK(fallbacks < draws / 20);
  for (int op = 0; op < 4; ++op) CHECK(std::abs(order_first[op] / double(jitters) - 0.25) <= 0.03);

  // Switched off: never applied, and the crop is the whole image.
  AugmentPolicy off;
  off.crop = off.flip = off.jitter = off.grayscale = off.blur = false;
  for (int i = 0; i < 100; ++i) {
    const AugmentParams p = draw_augment_params(off, h, w, 7, 3, static_cast<uint64_t>(i), 0);
    REQUIRE((!p.flip && !p.jitter && !p.grayscale && !p.blur));
    REQUIRE((p.crop_top == 0 && p.crop_left == 0 && p.crop_height == h && p.crop_width == w));
  }
}

TEST_CASE("augment: the central-crop fallback for extreme aspect ratios", "[kernels]") {
  AugmentPolicy policy;
  policy.scale_min = policy.scale_max = 1.0f;  // never fits a 4:1 image at ratio <= 4/3
  const AugmentParams p = draw_augment_params(policy, 10, 40, 1, 0, 5, 0);
  // torchvision: in_ratio 4 > 4/3, so h = 10, w = round(10 * 4/3) = 13, centered.
  REQUIRE(p.crop_height == 10);
  REQUIRE(p.crop_width == 13);
  REQUIRE(p.crop_top == 0);
  REQUIRE(p.crop_left == (40 - 13) / 2);
}

TEST_CASE("augment: same seed, epoch and index give the same views; another epoch others",
          "[kernels]") {
  const int64_t image_size = 20 * 24 * 3;
  const std::vector<uint8_t> pixels = to_vector<uint8_t>(
      to(test::random_tensor({4 * image_size}, DType::f32, 11, 0.0, 255.0), DType::u8));
  const Tensor images = from_vector<uint8_t>(pixels, {4, 20, 24, 3});
  const Tensor indices = from_vector<int64_t>({5, 900, 17, 3}, {4});
  // The same samples in another order: (17, 3, 5, 900).
  std::vector<uint8_t> swapped(pixels.begin() + 2 * image_size, pixels.end());
  swapped.insert(swapped.end(), pixels.begin(), pixels.begin() + 2 * image_size);
  const Tensor swapped_images = from_vector<uint8_t>(swapped, {4, 20, 24, 3});
  AugmentPolicy policy;
  policy.out_h = policy.out_w = 16;
  const Tensor a = augment(images, indices, policy, 42, 0, DType::f32);
  const Tensor b = augment(images, indices, policy, 42, 0, DType::f32);
  const Tensor other_epoch = augment(images, indices, policy, 42, 1, DType::f32);
  REQUIRE(a.shape() == Shape({8, 16, 16, 3}));
  REQUIRE(test::values(a) == test::values(b));
  REQUIRE(test::values(a) != test::values(other_epoch));
  // The two views of a sample differ, and a sample's views do not depend on its batch position.
  REQUIRE(test::values(slice(a, 0, 0, 1)) != test::values(slice(a, 0, 4, 5)));
  const Tensor swapped_indices = from_vector<int64_t>({17, 3, 5, 900}, {4});
  const Tensor c = augment(swapped_images, swapped_indices, policy, 42, 0, DType::f32);
  REQUIRE(test::values(slice(c, 0, 2, 3)) == test::values(slice(a, 0, 0, 1)));
  REQUIRE(test::values(slice(c, 0, 7, 8)) == test::values(slice(a, 0, 5, 6)));
  // Parameters are a pure function of (seed, epoch, index, view).
  const AugmentParams p = draw_augment_params(policy, 20, 24, 42, 0, 900, 1);
  const AugmentParams q = draw_augment_params(policy, 20, 24, 42, 0, 900, 1);
  REQUIRE(p.crop_top == q.crop_top);
  REQUIRE(p.sigma == q.sigma);
}

TEST_CASE("augment: bad arguments are refused with a message", "[kernels]") {
  const Tensor images = zeros({2, 8, 8, 3}, DType::u8);
  const Tensor indices = from_vector<int64_t>({0, 1}, {2});
  AugmentPolicy policy;
  policy.out_h = policy.out_w = 8;
  REQUIRE_THROWS_WITH(augment(zeros({2, 8, 8, 2}, DType::u8), indices, policy, 0, 0, DType::f32),
                      Catch::Contains("1 or 3 channels"));
  REQUIRE_THROWS_WITH(augment(zeros({2, 8, 8, 3}), indices, policy, 0, 0, DType::f32),
                      Catch::Contains("uint8 images"));
  REQUIRE_THROWS_WITH(augment(images, from_vector<int64_t>({0}, {1}), policy, 0, 0, DType::f32),
                      Catch::Contains("int64 indices"));
  AugmentParams p;
  p.crop_height = 9, p.crop_width = 8;
  REQUIRE_THROWS_WITH(augment_with_params(images, {p, p}, policy, DType::f32),
                      Catch::Contains("not inside"));
}

}  // namespace simclr
