// Data sets held whole in memory as one uint8 NHWC tensor plus int64 labels: Fashion-MNIST / MNIST
// (IDX files, gzipped or not), CIFAR-10 and CIFAR-100 (their binary versions) and a torchvision
// ImageFolder of PNG/JPEG files decoded on threads. The trainer moves `images` to the device once
// and draws its augmented views from it; every malformed input is one simclr::Error naming the
// file and what was expected against what was found.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace simclr {

enum class Split { train, test };

struct Dataset {
  std::string name;  // "fashion-mnist", "cifar10", "cifar100", "folder:<dir>"
  Tensor images;     // uint8 [n, h, w, c] NHWC, CPU, contiguous; c = 1 or 3
  Tensor labels;     // int64 [n], CPU, values in [0, num_classes)
  int64_t num_classes = 0;
  std::vector<std::string> class_names;  // num_classes names ("0", "1", ... when none is known)
  int64_t size() const;                  // n
  int64_t height() const;
  int64_t width() const;
  int64_t channels() const;
};

// IDX files (LeCun's format), gzipped or not (zlib reads both): images magic 2051 [n, rows, cols]
// -> [n, rows, cols, 1]; labels magic 2049 [n]. num_classes is the largest label + 1.
Dataset load_idx(const std::string& images_path, const std::string& labels_path, std::string name);

// Fashion-MNIST (or MNIST) in `dir`: {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz], the .gz
// one when both exist. 10 classes, with Fashion-MNIST's class names.
Dataset load_fashion_mnist(const std::string& dir, Split split);

// CIFAR-10 binary: data_batch_1..5.bin (train) or test_batch.bin (test), records of 1 label byte
// + 3072 CHW pixel bytes. CIFAR-100 binary: train.bin or test.bin, records of a coarse label byte,
// a fine label byte and 3072 pixel bytes; the fine label is used (100 classes). Images are
// [n, 32, 32, 3] HWC; batches.meta.txt / fine_label_names.txt give the class names when present.
Dataset load_cifar10(const std::string& dir, Split split);
Dataset load_cifar100(const std::string& dir, Split split);

// A folder with one sub-folder per class, like torchvision's ImageFolder: classes are the sorted
// sub-folder names, each holding (at any depth) files ending in .png, .jpg or .jpeg (any case),
// sorted; other files are ignored and a class without images is an error. Each image is decoded
// on one of `threads` threads (0: the hardware's concurrency), converted to `channels` (1: PIL's
// convert("L") luma; 3: gray replicated), resized so that its shorter side is `size` (bilinear with
// antialias, as torchvision's Resize on PIL images) and center-cropped to size x size.
struct ImageFolderOptions {
  int64_t size = 32;
  int64_t channels = 3;
  int threads = 0;
};
Dataset load_image_folder(const std::string& dir, const ImageFolderOptions& options);

// The loader the config names: kind "fashion-mnist", "cifar10", "cifar100" or "folder". A folder
// has no splits: `dir` is the folder itself, the caller gives the test folder for Split::test.
Dataset load_dataset(const std::string& kind, const std::string& dir, Split split,
                     const ImageFolderOptions& folder_options = {});

}  // namespace simclr
