// The loaders of simclr/dataset.h: IDX (Fashion-MNIST, MNIST), CIFAR's binary records and an image
// folder decoded on threads, plus the Dataset accessors and the loader the config names. Bulk
// bytes go straight into the tensor in one read, so that 60,000 images load in a fraction of a
// second.
#include "simclr/dataset.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <mutex>
#include <thread>
#include <utility>

#include "core/file_io.h"
#include "simclr/image_decode.h"

namespace simclr {

namespace fs = std::filesystem;

namespace {

void check_directory(const std::string& dir, const char* loader) {
  SIMCLR_CHECK(fs::is_directory(dir), loader, ": expected a directory at '", dir, "', found ",
               fs::exists(dir) ? "something else" : "nothing");
}

std::vector<std::string> numbered_class_names(int64_t num_classes) {
  std::vector<std::string> names;
  for (int64_t c = 0; c < num_classes; ++c) names.push_back(std::to_string(c));
  return names;
}

// One name per non-blank line of `path`, or numbers when there is no such file.
std::vector<std::string> read_class_names(const std::string& path, int64_t num_classes) {
  if (!fs::exists(path)) return numbered_class_names(num_classes);
  const std::vector<char> text = read_file(path);
  std::vector<std::string> names;
  std::string line;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && text[i] != '\n') {
      line += text[i];
      continue;
    }
    const size_t first = line.find_first_not_of(" \t\r");
    if (first != std::string::npos)
      names.push_back(line.substr(first, line.find_last_not_of(" \t\r") + 1 - first));
    line.clear();
  }
  SIMCLR_CHECK(static_cast<int64_t>(names.size()) == num_classes, "'", path, "' lists ",
               names.size(), " class names; expected ", num_classes);
  return names;
}

constexpr uint32_t kIdxImagesMagic = 2051;  // 0x00000803: unsigned bytes, 3 dimensions
constexpr uint32_t kIdxLabelsMagic = 2049;  // 0x00000801: unsigned bytes, 1 dimension

// A file read through zlib, which passes plain (not gzipped) files through unchanged.
class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    if (file_ == nullptr) {
      const int err = errno;
      SIMCLR_THROW("cannot open '", path, "': ", err != 0 ? std::strerror(err) : "out of memory");
    }
  }
  ~GzFile() { gzclose(file_); }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  // Reads up to `size` bytes and returns how many came: fewer only at the end of the data.
  size_t read(void* out, size_t size) {
    size_t done = 0;
    while (done < size) {
      const auto chunk = static_cast<unsigned>(std::min<size_t>(size - done, 1u << 30));
      const int n = gzread(file_, static_cast<char*>(out) + done, chunk);
      int code = Z_OK;
      const char* message = gzerror(file_, &code);
      SIMCLR_CHECK(code == Z_OK || code == Z_BUF_ERROR, "'", path_, "': zlib error: ", message);
      truncated_ = code == Z_BUF_ERROR;
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

  // Reads exactly `size` bytes of `what`, naming both counts when the file ends early.
  void read_exactly(void* out, size_t size, const char* what) {
    const size_t got = read(out, size);
    SIMCLR_CHECK(got == size, "'", path_, "' is truncated: expected ", size, " bytes of ", what,
                 ", found ", got);
  }

  void expect_end(const char* what) {
    char extra = 0;
    SIMCLR_CHECK(read(&extra, 1) == 0, "'", path_, "' has bytes after the ", what,
                 " its header announces; expected the file to end there");
    SIMCLR_CHECK(!truncated_, "'", path_, "' is truncated: its gzip stream ends before the ",
                 "gzip trailer");
  }

 private:
  std::string path_;
  gzFile file_;
  // zlib's Z_BUF_ERROR: the gzip stream ended early. Reads then come up short, which
  // read_exactly reports with both counts; a cut in the trailer alone shows only here.
  bool truncated_ = false;
};

uint32_t big_endian(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

// The header of an IDX file: its magic number, then one big-endian count per dimension.
std::vector<int64_t> read_idx_header(GzFile* file, const std::string& path, uint32_t magic,
                                     int ndim) {
  std::array<uint8_t, 16> header{};
  const size_t bytes = 4 * static_cast<size_t>(1 + ndim);
  file->read_exactly(header.data(), bytes, "IDX header");
  const uint32_t found = big_endian(header.data());
  SIMCLR_CHECK(found == magic, "'", path, "' is not an IDX ", ndim == 3 ? "images" : "labels",
               " file: expected the magic number ", magic, ", found ", found);
  std::vector<int64_t> dims;
  for (int d = 0; d < ndim; ++d) {
    dims.push_back(big_endian(header.data() + 4 * (1 + d)));
    SIMCLR_CHECK(dims.back() > 0, "'", path, "': expected positive IDX dimensions, found ",
                 dims.back(), " in dimension ", d);
  }
  return dims;
}

Tensor read_idx_images(const std::string& path) {
  GzFile file(path);
  const std::vector<int64_t> dims = read_idx_header(&file, path, kIdxImagesMagic, 3);
  const double bytes =
      static_cast<double>(dims[0]) * static_cast<double>(dims[1]) * static_cast<double>(dims[2]);
  SIMCLR_CHECK(bytes <= static_cast<double>(int64_t{1} << 40), "'", path, "': the header's ",
               dims[0], " x ", dims[1], " x ", dims[2], " images are implausibly large");
  Tensor images = Tensor::empty({dims[0], dims[1], dims[2], 1}, DType::u8);
  file.read_exactly(images.data_ptr(), images.nbytes(), "pixels");
  file.expect_end("pixels");
  return images;
}

std::vector<uint8_t> read_idx_labels(const std::string& path) {
  GzFile file(path);
  const std::vector<int64_t> dims = read_idx_header(&file, path, kIdxLabelsMagic, 1);
  std::vector<uint8_t> labels(static_cast<size_t>(dims[0]));
  file.read_exactly(labels.data(), labels.size(), "labels");
  file.expect_end("labels");
  return labels;
}

std::string existing_idx_file(const std::string& dir, const std::string& stem) {
  const fs::path base = fs::path(dir) / stem;
  const std::string gz = base.string() + ".gz";
  if (fs::is_regular_file(gz)) return gz;
  if (fs::is_regular_file(base)) return base.string();
  SIMCLR_THROW("load_fashion_mnist: neither '", gz, "' nor '", base.string(), "' exists");
}

// Whole-file CIFAR records turned into HWC images; `label_offset` is the label's byte in a record.
struct CifarFormat {
  const char* loader;
  int64_t num_classes;
  int64_t label_offset;
  int64_t record_bytes;
};

constexpr int64_t kCifarSide = 32;
constexpr int64_t kCifarPixels = kCifarSide * kCifarSide * 3;

int64_t cifar_records(const std::string& path, const CifarFormat& format) {
  SIMCLR_CHECK(fs::is_regular_file(path), format.loader, ": missing file '", path, "'");
  const auto bytes = static_cast<int64_t>(fs::file_size(path));
  SIMCLR_CHECK(bytes > 0 && bytes % format.record_bytes == 0, format.loader, ": '", path, "' has ",
               bytes, " bytes; expected a positive multiple of the ", format.record_bytes,
               "-byte record");
  return bytes / format.record_bytes;
}

void read_cifar_file(const std::string& path, const CifarFormat& format, int64_t records,
                     uint8_t* images, int64_t* labels) {
  const std::vector<char> bytes = read_file(path);
  SIMCLR_CHECK(static_cast<int64_t>(bytes.size()) == records * format.record_bytes, format.loader,
               ": '", path, "' changed size while it was read");
  for (int64_t r = 0; r < records; ++r) {
    const auto* record = reinterpret_cast<const uint8_t*>(bytes.data()) + r * format.record_bytes;
    const int64_t label = record[format.label_offset];
    SIMCLR_CHECK(label < format.num_classes, format.loader, ": '", path, "' record ", r,
                 " has the label ", label, "; expected 0..", format.num_classes - 1);
    labels[r] = label;
    const uint8_t* chw = record + format.record_bytes - kCifarPixels;
    uint8_t* hwc = images + r * kCifarPixels;
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t p = 0; p < kCifarSide * kCifarSide; ++p)
        hwc[p * 3 + c] = chw[c * kCifarSide * kCifarSide + p];
  }
}

Dataset load_cifar(const std::string& dir, const std::vector<std::string>& files,
                   const CifarFormat& format, const std::string& names_file, std::string name) {
  check_directory(dir, format.loader);
  std::vector<std::string> paths;
  std::vector<int64_t> counts;
  int64_t total = 0;
  for (const std::string& file : files) {
    paths.push_back((fs::path(dir) / file).string());
    counts.push_back(cifar_records(paths.back(), format));
    total += counts.back();
  }
  Dataset data;
  data.name = std::move(name);
  data.images = Tensor::empty({total, kCifarSide, kCifarSide, 3}, DType::u8);
  data.labels = Tensor::empty({total}, DType::i64);
  int64_t offset = 0;
  for (size_t f = 0; f < paths.size(); ++f) {
    read_cifar_file(paths[f], format, counts[f],
                    data.images.data<uint8_t>() + offset * kCifarPixels,
                    data.labels.data<int64_t>() + offset);
    offset += counts[f];
  }
  data.num_classes = format.num_classes;
  data.class_names = read_class_names((fs::path(dir) / names_file).string(), format.num_classes);
  return data;
}

// torchvision's ImageFolder index: sorted class folders, each one's images in sorted order.
struct FolderIndex {
  std::vector<std::string> classes;
  std::vector<std::string> paths;
  std::vector<int64_t> labels;
};

bool is_image_file(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

// Ordered as Python's sorted(os.walk(folder)): by the directory's path, then by file name.
std::vector<std::string> class_images(const fs::path& folder) {
  std::vector<std::pair<std::string, std::string>> files;
  const auto options = fs::directory_options::follow_directory_symlink;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(folder, options))
    if (entry.is_regular_file() && is_image_file(entry.path()))
      files.emplace_back(entry.path().parent_path().string(), entry.path().filename().string());
  std::sort(files.begin(), files.end());
  std::vector<std::string> paths;
  for (const auto& [parent, name] : files) paths.push_back((fs::path(parent) / name).string());
  return paths;
}

FolderIndex index_folder(const std::string& dir) {
  FolderIndex index;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir))
    if (entry.is_directory()) index.classes.push_back(entry.path().filename().string());
  std::sort(index.classes.begin(), index.classes.end());
  SIMCLR_CHECK(!index.classes.empty(), "load_image_folder: '", dir, "' has no sub-folders; ",
               "expected one sub-folder of images per class (torchvision's ImageFolder layout)");
  std::string empty;
  for (size_t c = 0; c < index.classes.size(); ++c) {
    const std::vector<std::string> paths = class_images(fs::path(dir) / index.classes[c]);
    if (paths.empty()) empty += (empty.empty() ? "'" : ", '") + index.classes[c] + "'";
    index.paths.insert(index.paths.end(), paths.begin(), paths.end());
    index.labels.insert(index.labels.end(), paths.size(), static_cast<int64_t>(c));
  }
  SIMCLR_CHECK(empty.empty(), "load_image_folder: in '", dir, "' the class folders ", empty,
               " hold no .png, .jpg or .jpeg file; expected at least one image per class");
  return index;
}

// Gray is made before resizing (PIL's convert("L") then Resize); replicating gray to RGB
// commutes with resizing, so it is done last, on the small image.
void load_sample(const std::string& path, const ImageFolderOptions& options, uint8_t* out) {
  Image image = decode_image(path);
  if (options.channels == 1 && image.channels == 3) image = convert_channels(image, 1);
  image = resize_center_crop(image, options.size);
  if (options.channels == 3 && image.channels == 1) image = convert_channels(image, 3);
  std::memcpy(out, image.pixels.data(), image.pixels.size());
}

// Threads take the next undecoded image until all are done or one fails; the failure of the
// lowest index among those tried is rethrown.
void load_samples(const std::vector<std::string>& paths, const ImageFolderOptions& options,
                  uint8_t* images) {
  const auto sample_bytes = static_cast<size_t>(options.size * options.size * options.channels);
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  size_t failed_index = paths.size();
  std::exception_ptr error;
  auto fail = [&](size_t i, std::exception_ptr e) {
    const std::lock_guard<std::mutex> lock(mutex);
    if (i < failed_index) {
      failed_index = i;
      error = std::move(e);
    }
    failed = true;
  };
  auto work = [&] {
    for (size_t i = next++; i < paths.size() && !failed; i = next++) {
      try {
        load_sample(paths[i], options, images + i * sample_bytes);
      } catch (const Error&) {
        fail(i, std::current_exception());
      } catch (const std::exception& e) {
        fail(i, std::make_exception_ptr(
                    Error(__FILE__, __LINE__,
                          detail::concat("load_image_folder: '", paths[i], "': ", e.what()))));
      }
    }
  };
  size_t threads = options.threads > 0 ? static_cast<size_t>(options.threads)
                                       : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, paths.size());
  {
    std::vector<std::jthread> pool;
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace

int64_t Dataset::size() const {
  return images.defined() ? images.size(0) : 0;
}
int64_t Dataset::height() const {
  return images.defined() ? images.size(1) : 0;
}
int64_t Dataset::width() const {
  return images.defined() ? images.size(2) : 0;
}
int64_t Dataset::channels() const {
  return images.defined() ? images.size(3) : 0;
}

Dataset load_idx(const std::string& images_path, const std::string& labels_path, std::string name) {
  Tensor images = read_idx_images(images_path);
  const std::vector<uint8_t> bytes = read_idx_labels(labels_path);
  SIMCLR_CHECK(static_cast<int64_t>(bytes.size()) == images.size(0), "load_idx: '", images_path,
               "' holds ", images.size(0), " images but '", labels_path, "' holds ", bytes.size(),
               " labels; expected equal counts");
  Dataset data;
  data.name = std::move(name);
  data.images = std::move(images);
  data.labels = Tensor::empty({static_cast<int64_t>(bytes.size())}, DType::i64);
  std::copy(bytes.begin(), bytes.end(), data.labels.data<int64_t>());
  data.num_classes = *std::max_element(bytes.begin(), bytes.end()) + 1;
  data.class_names = numbered_class_names(data.num_classes);
  return data;
}

Dataset load_fashion_mnist(const std::string& dir, Split split) {
  check_directory(dir, "load_fashion_mnist");
  const std::string prefix = split == Split::train ? "train" : "t10k";
  const std::string labels_path = existing_idx_file(dir, prefix + "-labels-idx1-ubyte");
  Dataset data =
      load_idx(existing_idx_file(dir, prefix + "-images-idx3-ubyte"), labels_path, "fashion-mnist");
  const int64_t* labels = data.labels.data<int64_t>();
  for (int64_t i = 0; i < data.size(); ++i)
    SIMCLR_CHECK(labels[i] < 10, "load_fashion_mnist: '", labels_path, "' label ", i, " is ",
                 labels[i], "; expected 0..9");
  data.num_classes = 10;
  data.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return data;
}

Dataset load_cifar10(const std::string& dir, Split split) {
  std::vector<std::string> files;
  if (split == Split::train) {
    for (int b = 1; b <= 5; ++b) files.push_back("data_batch_" + std::to_string(b) + ".bin");
  } else {
    files.push_back("test_batch.bin");
  }
  return load_cifar(dir, files, {"load_cifar10", 10, 0, 1 + kCifarPixels}, "batches.meta.txt",
                    "cifar10");
}

Dataset load_cifar100(const std::string& dir, Split split) {
  return load_cifar(dir, {split == Split::train ? "train.bin" : "test.bin"},
                    {"load_cifar100", 100, 1, 2 + kCifarPixels}, "fine_label_names.txt",
                    "cifar100");
}

Dataset load_image_folder(const std::string& dir, const ImageFolderOptions& options) {
  check_directory(dir, "load_image_folder");
  SIMCLR_CHECK(options.size > 0, "load_image_folder: expected a positive image size, got ",
               options.size);
  SIMCLR_CHECK(options.channels == 1 || options.channels == 3,
               "load_image_folder: expected 1 or 3 channels, got ", options.channels);
  SIMCLR_CHECK(options.threads >= 0, "load_image_folder: expected threads >= 0, got ",
               options.threads);
  FolderIndex index;
  try {
    index = index_folder(dir);
  } catch (const fs::filesystem_error& e) {
    SIMCLR_THROW("load_image_folder: cannot list '", dir, "': ", e.what());
  }
  const auto n = static_cast<int64_t>(index.paths.size());
  Dataset data;
  data.name = "folder:" + dir;
  data.images = Tensor::empty({n, options.size, options.size, options.channels}, DType::u8);
  load_samples(index.paths, options, data.images.data<uint8_t>());
  data.labels = Tensor::empty({n}, DType::i64);
  std::copy(index.labels.begin(), index.labels.end(), data.labels.data<int64_t>());
  data.num_classes = static_cast<int64_t>(index.classes.size());
  data.class_names = std::move(index.classes);
  return data;
}

Dataset load_dataset(const std::string& kind, const std::string& dir, Split split,
                     const ImageFolderOptions& folder_options) {
  if (kind == "fashion-mnist") return load_fashion_mnist(dir, split);
  if (kind == "cifar10") return load_cifar10(dir, split);
  if (kind == "cifar100") return load_cifar100(dir, split);
  if (kind == "folder") return load_image_folder(dir, folder_options);
  SIMCLR_THROW("load_dataset: unknown data set kind '", kind,
               "'; expected fashion-mnist, cifar10, cifar100 or folder");
}

}  // namespace simclr
