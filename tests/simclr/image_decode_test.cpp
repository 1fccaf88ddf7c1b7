// decode_image on PNGs of every colour type and bit depth and on JPEGs written here, its errors
// (one simclr::Error naming the file, nothing on stderr), and the channel conversion and
// resize + center crop against hand-computed cases and against PIL / torchvision
// (tests/data/image_decode.safetensors, from tests/data/make_image_decode_fixture.py).
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <utility>

#include "core/safetensors.h"
#include "kernels/ops.h"
#include "simclr/image_files.h"

namespace simclr {

namespace {

using test::PngSpec;
using test::random_bytes;

// Samples of `bits` bits packed most significant first, each row padded to a whole byte.
std::vector<uint8_t> pack_bits(const std::vector<uint8_t>& values, int bits, int width,
                               int height) {
  const size_t row_bytes = static_cast<size_t>(width * bits + 7) / 8;
  std::vector<uint8_t> packed(row_bytes * static_cast<size_t>(height), 0);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const int bit = x * bits;
      packed[static_cast<size_t>(y) * row_bytes + static_cast<size_t>(bit / 8)] |=
          static_cast<uint8_t>(values[static_cast<size_t>(y * width + x)] << (8 - bits - bit % 8));
    }
  return packed;
}

struct PngCase {
  std::string name;
  PngSpec spec;
  std::vector<uint8_t> packed;
  Image expected;
};

PngCase gray_low_bits(int bits, int width, int height, uint64_t seed) {
  const std::vector<uint8_t> values =
      random_bytes(static_cast<size_t>(width * height), seed, 0, (1 << bits) - 1);
  Image expected{height, width, 1, {}};
  for (uint8_t v : values)
    expected.pixels.push_back(static_cast<uint8_t>(v * 255 / ((1 << bits) - 1)));
  return {"gray" + std::to_string(bits),
          {width, height, bits, PNG_COLOR_TYPE_GRAY, false, {}, {}},
          pack_bits(values, bits, width, height),
          expected};
}

// `stored` channels per pixel of `depth` bits, of which the first `kept` come back (alpha dropped,
// 16-bit samples reduced to their high byte).
PngCase direct(const std::string& name, int color_type, int depth, int stored, int kept, int width,
               int height, bool interlaced, uint64_t seed) {
  const int bytes = depth / 8;
  const std::vector<uint8_t> packed =
      random_bytes(static_cast<size_t>(width * height * stored * bytes), seed);
  Image expected{height, width, kept, {}};
  for (size_t p = 0; p < static_cast<size_t>(width * height); ++p)
    for (int c = 0; c < kept; ++c)
      expected.pixels.push_back(packed[(p * static_cast<size_t>(stored) + static_cast<size_t>(c)) *
                                       static_cast<size_t>(bytes)]);
  return {name, {width, height, depth, color_type, interlaced, {}, {}}, packed, expected};
}

PngCase palette(int bits, int colors, int width, int height, uint64_t seed) {
  const std::vector<uint8_t> rgb = random_bytes(static_cast<size_t>(3 * colors), seed);
  std::vector<png_color> table;
  for (int c = 0; c < colors; ++c)
    table.push_back({rgb[3 * static_cast<size_t>(c)], rgb[3 * static_cast<size_t>(c) + 1],
                     rgb[3 * static_cast<size_t>(c) + 2]});
  const std::vector<uint8_t> index =
      random_bytes(static_cast<size_t>(width * height), seed + 1, 0, colors - 1);
  Image expected{height, width, 3, {}};
  for (uint8_t i : index)
    expected.pixels.insert(expected.pixels.end(), {table[i].red, table[i].green, table[i].blue});
  PngSpec spec{width, height, bits, PNG_COLOR_TYPE_PALETTE, false, table, {}};
  spec.transparency = random_bytes(static_cast<size_t>(colors), seed + 2);
  return {"palette" + std::to_string(bits), spec, pack_bits(index, bits, width, height), expected};
}

std::vector<PngCase> png_cases() {
  return {gray_low_bits(1, 11, 3, 1),
          gray_low_bits(2, 7, 5, 2),
          gray_low_bits(4, 5, 3, 3),
          direct("gray8", PNG_COLOR_TYPE_GRAY, 8, 1, 1, 9, 7, false, 4),
          direct("gray16", PNG_COLOR_TYPE_GRAY, 16, 1, 1, 5, 4, false, 5),
          direct("gray_alpha8", PNG_COLOR_TYPE_GRAY_ALPHA, 8, 2, 1, 6, 5, false, 6),
          direct("rgb8_interlaced", PNG_COLOR_TYPE_RGB, 8, 3, 3, 13, 11, true, 7),
          direct("rgba8", PNG_COLOR_TYPE_RGBA, 8, 4, 3, 7, 3, false, 8),
          direct("rgb16_interlaced", PNG_COLOR_TYPE_RGB, 16, 3, 3, 9, 9, true, 9),
          direct("rgba16", PNG_COLOR_TYPE_RGBA, 16, 4, 3, 3, 5, false, 10),
          palette(8, 7, 10, 3, 11),
          palette(4, 5, 5, 7, 12)};
}

void require_same(const Image& got, const Image& expected) {
  REQUIRE(got.height == expected.height);
  REQUIRE(got.width == expected.width);
  REQUIRE(got.channels == expected.channels);
  REQUIRE(got.pixels == expected.pixels);
}

int max_difference(const Image& a, const Image& b) {
  REQUIRE(a.pixels.size() == b.pixels.size());
  int worst = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i)
    worst = std::max(worst, std::abs(int{a.pixels[i]} - int{b.pixels[i]}));
  return worst;
}

// A smooth random image (JPEG's home ground) with a little noise.
Image smooth_image(int64_t height, int64_t width, int64_t channels, uint64_t seed) {
  Image image = test::random_image(height, width, channels, seed);
  const std::vector<uint8_t> base = random_bytes(static_cast<size_t>(channels), seed + 1, 40, 200);
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x)
      for (int64_t c = 0; c < channels; ++c) {
        uint8_t& p = image.pixels[static_cast<size_t>((y * width + x) * channels + c)];
        p = static_cast<uint8_t>(base[static_cast<size_t>(c)] + (x + 2 * y) % 40 + p % 8);
      }
  return image;
}

Image image_of(const Tensor& t) {
  return {t.size(0), t.size(1), t.size(2), to_vector<uint8_t>(t)};
}

}  // namespace

TEST_CASE("decode_image reads PNGs of every colour type, bit depth and interlace", "[simclr]") {
  test::TempDir dir("simclr_png_");
  for (const PngCase& c : png_cases()) {
    INFO(c.name);
    const std::string path = dir.file(c.name + ".png");
    test::write_png(path, c.spec, c.packed);
    require_same(decode_image(path), c.expected);
  }
}

TEST_CASE("decode_image reads baseline and progressive JPEGs, gray and colour", "[simclr]") {
  test::TempDir dir("simclr_jpeg_");
  for (int64_t channels : {1, 3}) {
    for (bool progressive : {false, true}) {
      INFO("channels " << channels << ", progressive " << progressive);
      const Image image = smooth_image(19, 23, channels, static_cast<uint64_t>(20 + channels));
      const std::string path = dir.file("image.jpg");
      test::write_jpeg(path, image, 100, progressive);
      const Image decoded = decode_image(path);
      REQUIRE(decoded.height == 19);
      REQUIRE(decoded.width == 23);
      REQUIRE(decoded.channels == channels);
      CHECK(max_difference(decoded, image) <= 4);  // quality 100, 4:4:4: rounding only
    }
  }
}

TEST_CASE("decode_image decodes PIL's JPEGs to PIL's pixels", "[simclr]") {
  const SafetensorsData fixture =
      load_safetensors(SIMCLR_TEST_DATA_DIR "/image_decode.safetensors");
  for (const std::string name : {"rgb", "gray"}) {
    INFO(name);
    const Tensor bytes = *fixture.find(name + ".jpeg");
    const Image decoded =
        decode_image(bytes.data<uint8_t>(), static_cast<size_t>(bytes.numel()), name + ".jpeg");
    require_same(decoded, image_of(*fixture.find(name + ".jpeg_decoded")));
  }
}

TEST_CASE("decode_image errors name the file and print nothing", "[simclr]") {
  test::TempDir dir("simclr_decode_errors_");
  const std::string png = dir.file("good.png");
  test::write_png(png, test::random_image(9, 8, 3, 30));
  const std::string png_bytes = test::read_bytes(png);
  const std::string jpeg = dir.file("good.jpg");
  test::write_jpeg(jpeg, smooth_image(16, 16, 3, 31), 95);
  const std::string jpeg_bytes = test::read_bytes(jpeg);

  // One PNG whose IDAT data is damaged, one whose IDAT CRC is.
  const size_t idat = png_bytes.find("IDAT");
  std::string corrupt_png = png_bytes, bad_crc_png = png_bytes;
  corrupt_png[idat + 6] ^= 0x5A;
  size_t idat_length = 0;
  for (size_t i = idat - 4; i < idat; ++i)
    idat_length = idat_length << 8 | static_cast<uint8_t>(png_bytes[i]);
  bad_crc_png[idat + 4 + idat_length] ^= 0x01;
  std::string garbage_jpeg = "\xFF\xD8\xFF";
  for (uint8_t b : random_bytes(200, 32)) garbage_jpeg += static_cast<char>(b);
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"", {"is empty"}},
      {"this is a text file", {"neither a PNG nor a JPEG", "found 74 68 69 73"}},
      {png_bytes.substr(0, png_bytes.size() / 2), {"not a readable PNG", "truncated"}},
      {corrupt_png, {"not a readable PNG"}},
      {bad_crc_png, {"not a readable PNG", "CRC error"}},
      {jpeg_bytes.substr(0, jpeg_bytes.size() * 3 / 5), {"not a readable JPEG", "Premature end"}},
      {garbage_jpeg, {"not a readable JPEG"}}};
  test::StderrCapture stderr_capture(dir.file("stderr.txt"));
  for (const auto& [bytes, fragments] : cases) {
    const std::string path = dir.file("bad.png");
    test::write_bytes(path, bytes);
    INFO("expecting: " << fragments.front());
    auto matcher = Catch::Contains("'" + path + "'");
    for (const std::string& f : fragments)
      REQUIRE_THROWS_WITH(decode_image(path), matcher && Catch::Contains(f));
  }
  const std::string missing = dir.file("missing.png");
  REQUIRE_THROWS_WITH(decode_image(missing),
                      Catch::Contains(missing) && Catch::Contains("No such file"));
  REQUIRE(stderr_capture.text().empty());
}

TEST_CASE("convert_channels: PIL's luma and gray replicated", "[simclr]") {
  const Image rgb{1, 5, 3, {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 10, 200, 30}};
  require_same(convert_channels(rgb, 1), Image{1, 5, 1, {76, 150, 29, 255, 124}});
  const Image gray = test::random_image(3, 7, 1, 40);
  const Image replicated = convert_channels(gray, 3);
  REQUIRE(replicated.channels == 3);
  for (size_t i = 0; i < gray.pixels.size(); ++i)
    for (size_t c = 0; c < 3; ++c) REQUIRE(replicated.pixels[3 * i + c] == gray.pixels[i]);
  require_same(convert_channels(gray, 1), gray);
  REQUIRE_THROWS_WITH(convert_channels(gray, 2), Catch::Contains("expected 1 or 3 channels"));
}

TEST_CASE("resize_bilinear and resize_center_crop match hand-computed cases", "[simclr]") {
  // Shrinking 4 -> 2: the triangle widens to 2 pixels, weights 3/7 3/7 1/7 and 1/7 3/7 3/7.
  require_same(resize_bilinear(Image{1, 4, 1, {10, 20, 30, 200}}, 1, 2), Image{1, 2, 1, {17, 101}});
  // Growing 2 -> 3: the middle sample sits halfway, rounded half up (17.5 -> 18).
  require_same(resize_bilinear(Image{1, 2, 1, {10, 25}}, 1, 3), Image{1, 3, 1, {10, 18, 25}});
  // 2 x 4 -> Resize(1) gives 1 x 2 (rows 17 and 57 after the horizontal pass), crop keeps the left.
  require_same(resize_center_crop(Image{2, 4, 1, {10, 20, 30, 200, 50, 60, 70, 80}}, 1),
               Image{1, 1, 1, {37}});
  // No resize needed: only the crop, its offset rounded half to even (2.5 -> 2, 3.5 -> 4).
  for (const auto& [height, width, top, left] : std::vector<std::array<int64_t, 4>>{
           {2, 7, 0, 2}, {2, 9, 0, 4}, {9, 2, 4, 0}, {3, 3, 0, 0}}) {
    const int64_t size = std::min(height, width);
    const Image image = test::random_image(height, width, 3, static_cast<uint64_t>(50 + width));
    Image expected{size, size, 3, {}};
    for (int64_t y = top; y < top + size; ++y)
      for (int64_t x = left; x < left + size; ++x)
        for (int64_t c = 0; c < 3; ++c)
          expected.pixels.push_back(image.pixels[static_cast<size_t>((y * width + x) * 3 + c)]);
    INFO(height << " x " << width);
    require_same(resize_center_crop(image, size), expected);
  }
}

TEST_CASE("resize_bilinear and resize_center_crop equal PIL and torchvision", "[simclr]") {
  const SafetensorsData fixture =
      load_safetensors(SIMCLR_TEST_DATA_DIR "/image_decode.safetensors");
  for (const std::string name : {"rgb", "gray"}) {
    const Image image = image_of(*fixture.find(name + ".image"));
    for (const auto& [h, w] :
         std::vector<std::pair<int64_t, int64_t>>{{5, 7}, {29, 40}, {9, 30}, {13, 4}}) {
      const std::string key = name + ".resize_" + std::to_string(h) + "x" + std::to_string(w);
      INFO(key);
      require_same(resize_bilinear(image, h, w), image_of(*fixture.find(key)));
    }
    for (int64_t size : {6, 8, 13, 20}) {
      const std::string key = name + ".resize_crop_" + std::to_string(size);
      INFO(key);
      require_same(resize_center_crop(image, size), image_of(*fixture.find(key)));
    }
  }
  const Image rgb = image_of(*fixture.find("rgb.image"));
  require_same(convert_channels(rgb, 1), image_of(*fixture.find("rgb.luma")));
  require_same(resize_center_crop(convert_channels(rgb, 1), 6),
               image_of(*fixture.find("rgb.luma_resize_crop_6")));
}

TEST_CASE("resize rejects malformed images and sizes", "[simclr]") {
  const Image image = test::random_image(4, 5, 3, 60);
  REQUIRE_THROWS_WITH(resize_center_crop(image, 0), Catch::Contains("expected a positive size"));
  REQUIRE_THROWS_WITH(resize_bilinear(image, 3, -1), Catch::Contains("expected a positive size"));
  Image short_pixels = image;
  short_pixels.pixels.pop_back();
  REQUIRE_THROWS_WITH(resize_center_crop(short_pixels, 2),
                      Catch::Contains("needs 60 bytes, got 59"));
}

}  // namespace simclr
