// PNG and JPEG decoding through libpng and libjpeg(-turbo). Both libraries report errors through
// callbacks that must not return; ours copy the message and longjmp back to a setjmp in the
// decoder, whose frame holds only trivially destructible locals (longjmp runs no destructors), and
// the caller turns the message into a simclr::Error naming the file. Warnings never reach stderr.
#include "simclr/image_decode.h"

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>

// jpeglib.h needs FILE and size_t declared first.
#include <jpeglib.h>
// jerror.h after jpeglib.h: the warning codes.
#include <jerror.h>
#include <png.h>

#include "core/error.h"
#include "core/file_io.h"

namespace simclr {

namespace {

// A larger header is corrupt or hostile; refuse it before allocating.
constexpr uint64_t kMaxImageBytes = uint64_t{1} << 31;

constexpr size_t kMessageLength = 256;

struct PngDecoder {
  png_structp png = nullptr;
  png_infop info = nullptr;
  const uint8_t* data = nullptr;
  size_t size = 0;
  size_t position = 0;
  char message[kMessageLength] = "";
  ~PngDecoder() { png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr); }
};

void png_on_error(png_structp png, png_const_charp message) {
  auto* decoder = static_cast<PngDecoder*>(png_get_error_ptr(png));
  std::snprintf(decoder->message, sizeof decoder->message, "%s", message);
  png_longjmp(png, 1);
}

void png_on_warning(png_structp, png_const_charp) {}

void png_read_memory(png_structp png, png_bytep out, size_t length) {
  auto* decoder = static_cast<PngDecoder*>(png_get_io_ptr(png));
  if (length > decoder->size - decoder->position) {
    char message[kMessageLength];
    std::snprintf(message, sizeof message,
                  "the file is truncated: %zu more bytes expected at byte %zu, the file has %zu",
                  length, decoder->position, decoder->size);
    png_error(png, message);
  }
  std::memcpy(out, decoder->data + decoder->position, length);
  decoder->position += length;
}

void check_image_bytes(png_structp png, uint64_t height, uint64_t width, uint64_t channels) {
  if (height * width * channels > kMaxImageBytes) {
    char message[kMessageLength];
    std::snprintf(
        message, sizeof message, "%llu x %llu x %llu pixels exceed the limit of %llu bytes",
        static_cast<unsigned long long>(height), static_cast<unsigned long long>(width),
        static_cast<unsigned long long>(channels), static_cast<unsigned long long>(kMaxImageBytes));
    png_error(png, message);
  }
}

// Returns false after a libpng error (the message is in decoder->message).
bool read_png(PngDecoder* decoder, Image* image, std::vector<png_bytep>* rows) {
  if (setjmp(png_jmpbuf(decoder->png))) return false;
  png_set_read_fn(decoder->png, decoder, png_read_memory);
  png_read_info(decoder->png, decoder->info);
  png_set_expand(decoder->png);  // palette -> RGB, 1/2/4-bit gray -> 8-bit, tRNS -> alpha
  png_set_strip_16(decoder->png);
  png_set_strip_alpha(decoder->png);
  png_set_interlace_handling(decoder->png);
  png_read_update_info(decoder->png, decoder->info);
  const png_uint_32 height = png_get_image_height(decoder->png, decoder->info);
  const png_uint_32 width = png_get_image_width(decoder->png, decoder->info);
  const png_byte channels = png_get_channels(decoder->png, decoder->info);
  if (channels != 1 && channels != 3)
    png_error(decoder->png, "expected 1 or 3 channels after the transforms");
  check_image_bytes(decoder->png, height, width, channels);
  image->height = height;
  image->width = width;
  image->channels = channels;
  image->pixels.resize(size_t{height} * width * channels);
  rows->resize(height);
  for (size_t y = 0; y < height; ++y) (*rows)[y] = image->pixels.data() + y * width * channels;
  png_read_image(decoder->png, rows->data());
  png_read_end(decoder->png, nullptr);
  return true;
}

Image decode_png(const uint8_t* data, size_t size, const std::string& name) {
  PngDecoder decoder;
  decoder.data = data;
  decoder.size = size;
  decoder.png =
      png_create_read_struct(PNG_LIBPNG_VER_STRING, &decoder, png_on_error, png_on_warning);
  SIMCLR_CHECK(decoder.png != nullptr, "decode_image: '", name, "': libpng could not start");
  decoder.info = png_create_info_struct(decoder.png);
  SIMCLR_CHECK(decoder.info != nullptr, "decode_image: '", name, "': libpng could not start");
  Image image;
  std::vector<png_bytep> rows;
  if (!read_png(&decoder, &image, &rows)) {
    SIMCLR_THROW("decode_image: '", name, "' is not a readable PNG: ", decoder.message);
  }
  return image;
}

struct JpegDecoder {
  jpeg_decompress_struct cinfo{};
  jpeg_error_mgr errors{};
  std::jmp_buf jump{};
  bool created = false;
  char message[JMSG_LENGTH_MAX] = "";
  ~JpegDecoder() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

[[noreturn]] void jpeg_on_error(j_common_ptr cinfo) {
  auto* decoder = static_cast<JpegDecoder*>(cinfo->client_data);
  (*cinfo->err->format_message)(cinfo, decoder->message);
  std::longjmp(decoder->jump, 1);
}

// libjpeg only warns about corrupt data and fills the rest of the image with gray; a data set must
// not train on that, so those warnings are errors. The ones left are about metadata we ignore.
void jpeg_on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace output
  const int code = cinfo->err->msg_code;
  if (code == JWRN_ADOBE_XFORM || code == JWRN_EXTRANEOUS_DATA || code == JWRN_JFIF_MAJOR ||
      code == JWRN_BOGUS_ICC)
    return;
  jpeg_on_error(cinfo);
}

void jpeg_silent_output(j_common_ptr) {}

// Returns false after a libjpeg error (the message is in decoder->message).
bool read_jpeg(JpegDecoder* decoder, const uint8_t* data, size_t size, Image* image) {
  jpeg_decompress_struct* cinfo = &decoder->cinfo;
  cinfo->err = jpeg_std_error(&decoder->errors);
  decoder->errors.error_exit = jpeg_on_error;
  decoder->errors.emit_message = jpeg_on_message;
  decoder->errors.output_message = jpeg_silent_output;
  cinfo->client_data = decoder;
  if (setjmp(decoder->jump)) return false;
  jpeg_create_decompress(cinfo);
  decoder->created = true;
  jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(cinfo, TRUE);
  if (cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK) {
    std::snprintf(decoder->message, sizeof decoder->message,
                  "expected a gray or YCbCr/RGB JPEG, found a CMYK or YCCK one");
    return false;
  }
  cinfo->out_color_space = cinfo->num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(cinfo);
  const uint64_t row_bytes = uint64_t{cinfo->output_width} * cinfo->output_components;
  if (row_bytes * cinfo->output_height > kMaxImageBytes) {
    std::snprintf(decoder->message, sizeof decoder->message,
                  "%u x %u x %d pixels exceed the limit of %llu bytes", cinfo->output_height,
                  cinfo->output_width, cinfo->output_components,
                  static_cast<unsigned long long>(kMaxImageBytes));
    return false;
  }
  image->height = cinfo->output_height;
  image->width = cinfo->output_width;
  image->channels = cinfo->output_components;
  image->pixels.resize(row_bytes * cinfo->output_height);
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = image->pixels.data() + cinfo->output_scanline * row_bytes;
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

Image decode_jpeg(const uint8_t* data, size_t size, const std::string& name) {
  JpegDecoder decoder;
  Image image;
  if (!read_jpeg(&decoder, data, size, &image)) {
    SIMCLR_THROW("decode_image: '", name, "' is not a readable JPEG: ", decoder.message);
  }
  return image;
}

std::string first_bytes_hex(const uint8_t* data, size_t size) {
  std::string hex;
  char byte[4];
  for (size_t i = 0; i < std::min<size_t>(size, 8); ++i) {
    std::snprintf(byte, sizeof byte, i == 0 ? "%02X" : " %02X", data[i]);
    hex += byte;
  }
  return hex;
}

}  // namespace

Image decode_image(const uint8_t* data, size_t size, const std::string& name) {
  SIMCLR_CHECK(size > 0, "decode_image: '", name, "' is empty; expected a PNG or JPEG image");
  if (size >= 8 && png_sig_cmp(data, 0, 8) == 0) return decode_png(data, size, name);
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
    return decode_jpeg(data, size, name);
  SIMCLR_THROW("decode_image: '", name,
               "' is neither a PNG nor a JPEG: expected the signature 89 50 4E 47 0D 0A 1A 0A "
               "(PNG) or FF D8 FF (JPEG), found ",
               first_bytes_hex(data, size));
}

Image decode_image(const std::string& path) {
  const std::vector<char> bytes = read_file(path);
  return decode_image(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path);
}

namespace {

// PIL's fixed point for 8-bit resampling: weights scaled by 2^22 leave room for the sum of 255s.
constexpr int kPrecisionBits = 32 - 8 - 2;

// The weights of the output indices [first, first + count) of an axis resized from `in_size` to
// `out_size`: PIL's precompute_coeffs with the bilinear (triangle) filter, then
// normalize_coeffs_8bpc, step for step, so that the sums round as PIL's do.
struct AxisWeights {
  int64_t taps = 0;              // the most weights one output has
  std::vector<int64_t> start;    // the first input index of each output
  std::vector<int64_t> length;   // how many inputs it reads
  std::vector<int32_t> weights;  // count x taps
};

double triangle(double x) {
  x = x < 0.0 ? -x : x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

AxisWeights axis_weights(int64_t in_size, int64_t out_size, int64_t first, int64_t count) {
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  const double filter_scale = std::max(scale, 1.0);
  const double support = 1.0 * filter_scale;
  const double inverse = 1.0 / filter_scale;
  AxisWeights axis;
  axis.taps = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  axis.start.resize(static_cast<size_t>(count));
  axis.length.resize(static_cast<size_t>(count));
  axis.weights.assign(static_cast<size_t>(count * axis.taps), 0);
  std::vector<double> w(static_cast<size_t>(axis.taps));
  for (int64_t i = 0; i < count; ++i) {
    const double center = (static_cast<double>(first + i) + 0.5) * scale;
    const int64_t lo = std::max<int64_t>(0, static_cast<int64_t>(center - support + 0.5));
    const int64_t hi = std::min<int64_t>(in_size, static_cast<int64_t>(center + support + 0.5));
    double total = 0.0;
    for (int64_t x = lo; x < hi; ++x) {
      w[static_cast<size_t>(x - lo)] = triangle((static_cast<double>(x) - center + 0.5) * inverse);
      total += w[static_cast<size_t>(x - lo)];
    }
    const size_t i_ = static_cast<size_t>(i);
    axis.start[i_] = lo;
    axis.length[i_] = hi - lo;
    for (int64_t x = 0; x < hi - lo; ++x) {
      const double k = total != 0.0 ? w[static_cast<size_t>(x)] / total : w[static_cast<size_t>(x)];
      const double scaled = k * (1 << kPrecisionBits);
      axis.weights[i_ * static_cast<size_t>(axis.taps) + static_cast<size_t>(x)] =
          static_cast<int32_t>(k < 0.0 ? scaled - 0.5 : scaled + 0.5);
    }
  }
  return axis;
}

uint8_t clip8(int32_t sum) {
  if (sum >= (1 << kPrecisionBits << 8)) return 255;
  return sum <= 0 ? 0 : static_cast<uint8_t>(sum >> kPrecisionBits);
}

// One separable pass: output index i of the resampled axis reads input indices
// axis.start[i] - offset + [0, length) along `in_step`; every other coordinate is carried by
// `lines` lines of `line_step` (in and out alike) and the `channels` interleaved samples.
struct PassLayout {
  int64_t lines, in_line_step, out_line_step, in_step, out_step, channels, offset;
};

void resample_pass(const uint8_t* in, uint8_t* out, const AxisWeights& axis, const PassLayout& p) {
  const int64_t count = static_cast<int64_t>(axis.start.size());
  for (int64_t line = 0; line < p.lines; ++line) {
    for (int64_t i = 0; i < count; ++i) {
      const size_t i_ = static_cast<size_t>(i);
      const int32_t* k = axis.weights.data() + i_ * static_cast<size_t>(axis.taps);
      const uint8_t* src = in + line * p.in_line_step + (axis.start[i_] - p.offset) * p.in_step;
      uint8_t* dst = out + line * p.out_line_step + i * p.out_step;
      for (int64_t c = 0; c < p.channels; ++c) {
        int32_t sum = 1 << (kPrecisionBits - 1);
        for (int64_t x = 0; x < axis.length[i_]; ++x) sum += src[x * p.in_step + c] * k[x];
        dst[c] = clip8(sum);
      }
    }
  }
}

void check_image(const Image& image, const char* op) {
  SIMCLR_CHECK(image.channels == 1 || image.channels == 3, op, ": expected an image of 1 or 3 ",
               "channels, got ", image.channels);
  SIMCLR_CHECK(image.height > 0 && image.width > 0, op, ": expected a non-empty image, got ",
               image.height, " x ", image.width);
  SIMCLR_CHECK(
      image.pixels.size() == static_cast<size_t>(image.height * image.width * image.channels), op,
      ": a ", image.height, " x ", image.width, " x ", image.channels, " image needs ",
      image.height * image.width * image.channels, " bytes, got ", image.pixels.size());
}

// The window [top, top + rows) x [left, left + cols) of `image` resized to height x width: the
// horizontal pass runs only on the input rows the vertical pass reads.
Image resample(const Image& image, int64_t height, int64_t width, int64_t top, int64_t left,
               int64_t rows, int64_t cols) {
  const AxisWeights vertical = axis_weights(image.height, height, top, rows);
  const AxisWeights horizontal = axis_weights(image.width, width, left, cols);
  const int64_t first_row = vertical.start.front();
  const int64_t end_row = vertical.start.back() + vertical.length.back();
  const int64_t c = image.channels;
  std::vector<uint8_t> middle(static_cast<size_t>((end_row - first_row) * cols * c));
  resample_pass(image.pixels.data() + first_row * image.width * c, middle.data(), horizontal,
                {end_row - first_row, image.width * c, cols * c, c, c, c, 0});
  Image out{rows, cols, c, std::vector<uint8_t>(static_cast<size_t>(rows * cols * c))};
  resample_pass(middle.data(), out.pixels.data(), vertical,
                {1, 0, 0, cols * c, cols * c, cols * c, first_row});
  return out;
}

}  // namespace

Image convert_channels(const Image& image, int64_t channels) {
  check_image(image, "convert_channels");
  SIMCLR_CHECK(channels == 1 || channels == 3, "convert_channels: expected 1 or 3 channels, got ",
               channels);
  if (image.channels == channels) return image;
  const size_t n = static_cast<size_t>(image.height * image.width);
  Image out{image.height, image.width, channels, std::vector<uint8_t>(n * channels)};
  const uint8_t* in = image.pixels.data();
  for (size_t i = 0; i < n; ++i) {
    if (channels == 1) {
      const uint32_t luma = in[3 * i] * 19595u + in[3 * i + 1] * 38470u + in[3 * i + 2] * 7471u;
      out.pixels[i] = static_cast<uint8_t>((luma + 0x8000u) >> 16);
    } else {
      out.pixels[3 * i] = out.pixels[3 * i + 1] = out.pixels[3 * i + 2] = in[i];
    }
  }
  return out;
}

Image resize_bilinear(const Image& image, int64_t height, int64_t width) {
  check_image(image, "resize_bilinear");
  SIMCLR_CHECK(height > 0 && width > 0, "resize_bilinear: expected a positive size, got ", height,
               " x ", width);
  return resample(image, height, width, 0, 0, height, width);
}

Image resize_center_crop(const Image& image, int64_t size) {
  check_image(image, "resize_center_crop");
  SIMCLR_CHECK(size > 0, "resize_center_crop: expected a positive size, got ", size);
  const int64_t shorter = std::min(image.height, image.width);
  const int64_t longer = std::max(image.height, image.width);
  const auto resized_long =
      static_cast<int64_t>(static_cast<double>(size * longer) / static_cast<double>(shorter));
  const int64_t height = image.height <= image.width ? size : resized_long;
  const int64_t width = image.height <= image.width ? resized_long : size;
  const auto top = static_cast<int64_t>(std::nearbyint(static_cast<double>(height - size) / 2.0));
  const auto left = static_cast<int64_t>(std::nearbyint(static_cast<double>(width - size) / 2.0));
  return resample(image, height, width, top, left, size, size);
}

}  // namespace simclr
