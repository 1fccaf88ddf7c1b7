// Files the data set tests write at run time (into a core/format_test_util.h TempDir): PNGs in
// every colour type and bit depth (libpng), JPEGs (libjpeg), gzip, and a guard that catches
// anything a library prints to stderr.
#pragma once

#include <cstdio>
#include <random>
#include <string>
#include <vector>

// jpeglib.h needs FILE and size_t declared first.
#include <jpeglib.h>
#include <png.h>
#include <unistd.h>
#include <zlib.h>
#include <catch2/catch.hpp>

#include "core/format_test_util.h"
#include "simclr/image_decode.h"

namespace simclr::test {

inline std::vector<uint8_t> random_bytes(size_t n, uint64_t seed, int low = 0, int high = 255) {
  std::mt19937_64 gen(seed);
  std::uniform_int_distribution<int> dist(low, high);
  std::vector<uint8_t> bytes(n);
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(dist(gen));
  return bytes;
}

inline Image random_image(int64_t height, int64_t width, int64_t channels, uint64_t seed) {
  return {height, width, channels,
          random_bytes(static_cast<size_t>(height * width * channels), seed)};
}

inline void write_gz(const std::string& path, const std::vector<uint8_t>& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  REQUIRE(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  REQUIRE(gzclose(file) == Z_OK);
}

// A PNG of `rows` already packed as PNG stores them (bit depth, colour type, big-endian 16-bit).
struct PngSpec {
  int width = 0, height = 0, bit_depth = 8, color_type = PNG_COLOR_TYPE_RGB;
  bool interlaced = false;
  std::vector<png_color> palette;
  std::vector<png_byte> transparency;  // palette alpha (tRNS)
};

inline void write_png(const std::string& path, const PngSpec& spec,
                      const std::vector<uint8_t>& packed) {
  FILE* file = std::fopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_init_io(png, file);
  png_set_IHDR(png, info, static_cast<png_uint_32>(spec.width),
               static_cast<png_uint_32>(spec.height), spec.bit_depth, spec.color_type,
               spec.interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (!spec.palette.empty())
    png_set_PLTE(png, info, spec.palette.data(), static_cast<int>(spec.palette.size()));
  if (!spec.transparency.empty())
    png_set_tRNS(png, info, spec.transparency.data(), static_cast<int>(spec.transparency.size()),
                 nullptr);
  png_write_info(png, info);
  const size_t row_bytes = packed.size() / static_cast<size_t>(spec.height);
  std::vector<png_bytep> rows;
  for (int y = 0; y < spec.height; ++y)
    rows.push_back(const_cast<png_bytep>(packed.data()) + static_cast<size_t>(y) * row_bytes);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  REQUIRE(std::fclose(file) == 0);
}

// An 8-bit gray or RGB PNG of `image`.
inline void write_png(const std::string& path, const Image& image, bool interlaced = false) {
  PngSpec spec;
  spec.width = static_cast<int>(image.width);
  spec.height = static_cast<int>(image.height);
  spec.color_type = image.channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB;
  spec.interlaced = interlaced;
  write_png(path, spec, image.pixels);
}

// Full-resolution chroma (4:4:4), so that quality 100 leaves only rounding error.
inline void write_jpeg(const std::string& path, const Image& image, int quality,
                       bool progressive = false) {
  FILE* file = std::fopen(path.c_str(), "wb");
  REQUIRE(file != nullptr);
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr errors{};
  cinfo.err = jpeg_std_error(&errors);
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, file);
  cinfo.image_width = static_cast<JDIMENSION>(image.width);
  cinfo.image_height = static_cast<JDIMENSION>(image.height);
  cinfo.input_components = static_cast<int>(image.channels);
  cinfo.in_color_space = image.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  for (int c = 0; c < cinfo.num_components; ++c)
    cinfo.comp_info[c].h_samp_factor = cinfo.comp_info[c].v_samp_factor = 1;
  if (progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  const auto row_bytes = static_cast<size_t>(image.width * image.channels);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(image.pixels.data()) + cinfo.next_scanline * row_bytes;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  REQUIRE(std::fclose(file) == 0);
}

// Sends stderr to a file while alive; text() is what was written there.
class StderrCapture {
 public:
  explicit StderrCapture(const std::string& path) : path_(path) {
    std::fflush(stderr);
    saved_ = dup(2);
    FILE* file = std::fopen(path.c_str(), "w");
    dup2(fileno(file), 2);
    std::fclose(file);
  }
  ~StderrCapture() { restore(); }
  std::string text() {
    restore();
    return read_bytes(path_);
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    saved_ = -1;
  }
  std::string path_;
  int saved_ = -1;
};

}  // namespace simclr::test
