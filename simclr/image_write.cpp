// PNG encoding through libpng's simplified API: it reports errors in the png_image struct rather
// than by longjmp, so no setjmp crosses C++ frames here.
#include "simclr/image_write.h"

#include <png.h>

#include <vector>

#include "core/error.h"
#include "core/file_io.h"

namespace simclr {

namespace {

constexpr int64_t kMaxSide = 1000000;

}  // namespace

void write_png(const std::string& path, const uint8_t* pixels, int64_t height, int64_t width,
               int64_t channels) {
  SIMCLR_CHECK(channels == 1 || channels == 3, path, ": PNG with ", channels,
               " channels; expected 1 (gray) or 3 (RGB)");
  SIMCLR_CHECK(height >= 1 && height <= kMaxSide && width >= 1 && width <= kMaxSide, path,
               ": PNG of ", height, " x ", width, " pixels; expected 1 to ", kMaxSide, " per side");
  SIMCLR_CHECK(pixels != nullptr, path, ": PNG without pixels (null pointer)");
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  // The bound never fills, so one encoding pass suffices.
  std::vector<unsigned char> encoded(PNG_IMAGE_PNG_SIZE_MAX(image));
  png_alloc_size_t size = encoded.size();
  const int ok = png_image_write_to_memory(&image, encoded.data(), &size, /*convert_to_8_bit=*/0,
                                           pixels, /*row_stride=*/0, /*colormap=*/nullptr);
  const std::string message = image.message;
  png_image_free(&image);
  SIMCLR_CHECK(ok != 0, path, ": libpng could not encode the ", height, " x ", width,
               " image: ", message);
  write_file_atomic(path, encoded.data(), size);
}

}  // namespace simclr
