// PNG output for pictures a person looks at (augmentation grids, training curves): 8-bit
// grayscale or RGB, encoded in memory with libpng and written atomically, so a viewer or a
// dashboard that polls the file never sees half an image.
#pragma once

#include <cstdint>
#include <string>

namespace simclr {

// `pixels` holds height rows of width * channels bytes, top row first, channels interleaved
// (1: gray, 3: RGB). Sizes up to 1,000,000 per side (libpng's default limit for readers). Throws
// naming `path` on bad sizes, an encoder failure, or a failed write.
void write_png(const std::string& path, const uint8_t* pixels, int64_t height, int64_t width,
               int64_t channels);

}  // namespace simclr
