// Reads a PNG back with libpng for the simclr tests, independently of the writer under test.
#pragma once

#include <png.h>

#include <cstdint>
#include <string>
#include <vector>

namespace simclr::test {

struct PngImage {
  int64_t width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;  // rows top first, channels interleaved
};

// channels: 1 reads as gray, 3 as RGB (libpng converts). An empty image when the file is not a
// PNG libpng can read.
inline PngImage read_png(const std::string& path, int channels) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str())) return {};
  image.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  PngImage out{image.width, image.height, channels, std::vector<uint8_t>(PNG_IMAGE_SIZE(image))};
  if (!png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr)) {
    png_image_free(&image);
    return {};
  }
  return out;
}

}  // namespace simclr::test
