// Decoding PNG and JPEG files into 8-bit pixels, and the resize + center crop that turns an image
// of any size into a training sample, both matching what a torchvision pipeline on PIL images gives
// (PIL's convert / Resize / CenterCrop), so that a folder of images means the same thing here as in
// PyTorch. Neither libpng nor libjpeg may print or exit on bad input: every failure is one
// simclr::Error naming the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace simclr {

struct Image {
  int64_t height = 0, width = 0, channels = 0;  // channels: 1 (gray) or 3 (RGB)
  std::vector<uint8_t> pixels;                  // HWC, height * width * channels bytes
};

// Decodes a PNG or a JPEG, recognized by its first bytes (not by its extension).
// PNG: palette, gray, gray + alpha, RGB, RGBA, 1- to 16-bit, interlaced; 16-bit samples keep their
// high byte (as PIL does) and alpha is dropped. JPEG: baseline or progressive, gray or YCbCr;
// a truncated or corrupt stream is an error, not a gray-filled image.
Image decode_image(const std::string& path);
// The same on bytes already in memory; `name` is what errors call them.
Image decode_image(const uint8_t* data, size_t size, const std::string& name);

// To 1 channel (PIL's convert("L"): luma 0.299 R + 0.587 G + 0.114 B in 16-bit fixed point) or to
// 3 (gray replicated); an image that has `channels` already comes back as it is.
Image convert_channels(const Image& image, int64_t channels);

// PIL's Image.resize(..., BILINEAR): a triangle filter whose support widens with the shrink factor
// (the antialias of torchvision's Resize), separable, horizontal pass first, 8-bit fixed point.
// The result equals PIL's bit for bit.
Image resize_bilinear(const Image& image, int64_t height, int64_t width);

// torchvision's Resize(size) then CenterCrop(size): the shorter side becomes `size` (the longer one
// size * long / short, truncated), then the central size x size window, its offset rounded half to
// even like Python's round(). Only the pixels of the window are computed.
Image resize_center_crop(const Image& image, int64_t size);

}  // namespace simclr
