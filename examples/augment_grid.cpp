// augment_grid: two SimCLR views of the first Fashion-MNIST training images, as a PNG grid that a
// person can look at. Each row is one image: the original, then view 0 and view 1.
//
//   augment_grid [out.png] [seed] [epoch]      (default augment_grid.png 0 0)
//
// Reads Fashion-MNIST from /usr/share/datasets/fashion-mnist (the Debian package
// dataset-fashion-mnist), or from the directory in SIMCLR_FASHION_MNIST_DIR.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "kernels/augment.h"
#include "kernels/ops.h"
#include "simclr/dataset.h"
#include "simclr/image_write.h"

namespace {

constexpr int kImages = 8;
constexpr int kScale = 4;  // each pixel drawn as kScale x kScale
constexpr int kGap = 4;    // pixels between cells

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string out_path = argc > 1 ? argv[1] : "augment_grid.png";
    const uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 0;
    const uint64_t epoch = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 0;
    const char* env = std::getenv("SIMCLR_FASHION_MNIST_DIR");
    const simclr::Dataset data = simclr::load_fashion_mnist(
        env ? env : "/usr/share/datasets/fashion-mnist", simclr::Split::train);
    const simclr::Tensor images = simclr::contiguous(simclr::slice(data.images, 0, 0, kImages));
    const int h = static_cast<int>(data.height()), w = static_cast<int>(data.width());
    const std::vector<uint8_t> pixels = simclr::to_vector<uint8_t>(images);
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
