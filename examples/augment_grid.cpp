// augment_grid: two SimCLR views of the first Fashion-MNIST training images, as a PNG grid that a
// person can look at. Each row is one image: the original, then view 0 and view 1.
//
//   augment_grid [out.png] [seed] [epoch]      (default augment_grid.png 0 0)
//
// Reads /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz (IDX, gzipped; the Debian
// package dataset-fashion-mnist), or the path in SIMCLR_FASHION_MNIST_IMAGES.
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/augment.h"
#include "kernels/ops.h"
#include "simclr/image_write.h"

namespace {

constexpr const char* kDefaultImages =
    "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
constexpr int kImages = 8;
constexpr int kScale = 4;  // each pixel drawn as kScale x kScale
constexpr int kGap = 4;    // pixels between cells

uint32_t big_endian(const unsigned char* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

// The first `count` images of an IDX3 file (magic 0x00000803, count, rows, cols, then bytes).
std::vector<uint8_t> read_idx_images(const std::string& path, int count, int* rows, int* cols) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error(path + ": cannot open (is dataset-fashion-mnist installed?)");
  auto read = [&](void* dst, unsigned bytes, const char* what) {
    const int got = gzread(f, dst, bytes);
    if (got != static_cast<int>(bytes)) {
      gzclose(f);
      throw std::runtime_error(path + ": truncated or not gzip while reading " + what);
    }
  };
  unsigned char header[16];
  read(header, sizeof header, "the IDX header");
  const uint32_t magic = big_endian(header), n = big_endian(header + 4);
  *rows = static_cast<int>(big_endian(header + 8));
  *cols = static_cast<int>(big_endian(header + 12));
  if (magic != 0x00000803u || *rows <= 0 || *cols <= 0 || *rows > 4096 || *cols > 4096) {
    gzclose(f);
    throw std::runtime_error(path + ": not an IDX file of uint8 images (magic 0x00000803)");
  }
  if (n < static_cast<uint32_t>(count)) {
    gzclose(f);
    throw std::runtime_error(path + ": holds " + std::to_string(n) + " images, need " +
                             std::to_string(count));
  }
  std::vector<uint8_t> pixels(static_cast<size_t>(count) * *rows * *cols);
  read(pixels.data(), static_cast<unsigned>(pixels.size()), "the images");
  gzclose(f);
  return pixels;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string out_path = argc > 1 ? argv[1] : "augment_grid.png";
    const uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0;
    const uint64_t epoch = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 0;
    const char* env = std::getenv("SIMCLR_FASHION_MNIST_IMAGES");
    const std::string images_path = env ? env : kDefaultImages;

    int h = 0, w = 0;
    std::vector<uint8_t> pixels = read_idx_images(images_path, kImages, &h, &w);
    const simclr::Tensor images = simclr::from_vector<uint8_t>(pixels, {kImages, h, w, 1});
    std::vector<int64_t> idx;
    for (int i = 0; i < kImages; ++i) idx.push_back(i);
    const simclr::Tensor indices = simclr::from_vector<int64_t>(idx, {kImages});

    // The SimCLR policy at the source size, without blur (28 px images) and unnormalized, so the
    // views are in [0, 1] and can be drawn directly.
    simclr::AugmentPolicy policy;
    policy.out_h = h;
    policy.out_w = w;
    policy.blur = false;
    policy.normalize = false;
    const simclr::Tensor views =
        simclr::augment(images, indices, policy, seed, epoch, simclr::DType::f32);
    const std::vector<float> v = simclr::to_vector<float>(views);

    const int cell_h = h * kScale, cell_w = w * kScale;
    const int width = 3 * cell_w + 4 * kGap, height = kImages * cell_h + (kImages + 1) * kGap;
    std::vector<uint8_t> grid(static_cast<size_t>(width) * height, 64);  // dark gray background
    auto draw = [&](int row, int col, auto value_at) {
      const int top = kGap + row * (cell_h + kGap), left = kGap + col * (cell_w + kGap);
      for (int y = 0; y < cell_h; ++y)
        for (int x = 0; x < cell_w; ++x) {
          float value = value_at(y / kScale, x / kScale);
          value = value < 0 ? 0 : (value > 1 ? 1 : value);
          grid[static_cast<size_t>(top + y) * width + left + x] =
              static_cast<uint8_t>(value * 255.0f + 0.5f);
        }
    };
    for (int i = 0; i < kImages; ++i) {
      draw(i, 0,
           [&](int y, int x) { return pixels[(static_cast<size_t>(i) * h + y) * w + x] / 255.0f; });
      for (int view = 0; view < 2; ++view) {
        const size_t row = static_cast<size_t>(i + view * kImages);
        draw(i, 1 + view, [&](int y, int x) { return v[(row * h + y) * w + x]; });
      }
    }
    simclr::write_png(out_path, grid.data(), height, width, 1);
    std::printf("wrote %s: %d images (original, view 0, view 1 per row), %d x %d px\n",
                out_path.c_str(), kImages, width, height);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "augment_grid: %s\n", e.what());
    return 1;
  }
}
