// The data set loaders on small files written here (IDX gzipped and plain, CIFAR-10/100 records,
// an image folder of PNGs and JPEGs), each malformed input's error, and the real Fashion-MNIST
// from Debian's dataset-fashion-mnist package.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "kernels/ops.h"
#include "simclr/dataset.h"
#include "simclr/image_files.h"

namespace simclr {

namespace {

namespace fs = std::filesystem;
using test::random_bytes;

std::vector<uint8_t> idx_file(uint32_t magic, const std::vector<uint32_t>& dims,
                              const std::vector<uint8_t>& data) {
  std::vector<uint8_t> bytes;
  auto put = [&](uint32_t word) {
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(static_cast<uint8_t>(word >> shift));
  };
  put(magic);
  for (uint32_t d : dims) put(d);
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes, bool gz = false) {
  if (gz) {
    test::write_gz(path, bytes);
  } else {
    test::write_bytes(path, std::string(bytes.begin(), bytes.end()));
  }
}

struct IdxPair {
  std::vector<uint8_t> pixels, labels;
};

// n images of rows x cols and their labels in [0, classes), written as an IDX pair.
IdxPair write_idx_pair(const std::string& images, const std::string& labels, uint32_t n,
                       uint32_t rows, uint32_t cols, int classes, bool gz, uint64_t seed) {
  IdxPair pair{random_bytes(size_t{n} * rows * cols, seed),
               random_bytes(n, seed + 1, 0, classes - 1)};
  write_file(images, idx_file(2051, {n, rows, cols}, pair.pixels), gz);
  write_file(labels, idx_file(2049, {n}, pair.labels), gz);
  return pair;
}

void require_labels(const Dataset& data, const std::vector<uint8_t>& expected) {
  REQUIRE(data.labels.dtype() == DType::i64);
  REQUIRE(data.labels.shape() == Shape{static_cast<int64_t>(expected.size())});
  const std::vector<int64_t> labels = to_vector<int64_t>(data.labels);
  REQUIRE(std::equal(labels.begin(), labels.end(), expected.begin(), expected.end()));
}

// A CIFAR file of random records; labels_at are the label bytes' offsets in a record.
std::vector<uint8_t> cifar_records(int64_t records, int64_t record_bytes,
                                   const std::vector<int64_t>& labels_at, int classes,
                                   uint64_t seed) {
  std::vector<uint8_t> bytes = random_bytes(static_cast<size_t>(records * record_bytes), seed);
  const std::vector<uint8_t> labels =
      random_bytes(static_cast<size_t>(records) * labels_at.size(), seed + 1, 0, classes - 1);
  for (int64_t r = 0; r < records; ++r)
    for (size_t l = 0; l < labels_at.size(); ++l)
      bytes[static_cast<size_t>(r * record_bytes + labels_at[l])] =
          labels[static_cast<size_t>(r) * labels_at.size() + l];
  return bytes;
}

// Checks images and labels against the records: HWC pixel (y, x, c) is CHW byte c*1024 + y*32 + x
// after the label bytes.
void require_cifar(const Dataset& data, const std::vector<uint8_t>& records, int64_t record_bytes,
                   int64_t label_at) {
  const int64_t n = static_cast<int64_t>(records.size()) / record_bytes;
  REQUIRE(data.images.shape() == Shape{n, 32, 32, 3});
  REQUIRE(data.images.dtype() == DType::u8);
  const std::vector<uint8_t> pixels = to_vector<uint8_t>(data.images);
  const std::vector<int64_t> labels = to_vector<int64_t>(data.labels);
  const int64_t header = record_bytes - 3072;
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* record = records.data() + i * record_bytes;
    REQUIRE(labels[static_cast<size_t>(i)] == record[label_at]);
    for (int64_t y = 0; y < 32; ++y)
      for (int64_t x = 0; x < 32; ++x)
        for (int64_t c = 0; c < 3; ++c)
          REQUIRE(pixels[static_cast<size_t>(((i * 32 + y) * 32 + x) * 3 + c)] ==
                  record[header + c * 1024 + y * 32 + x]);
  }
}

std::string cifar10_dir(test::TempDir& tmp, std::vector<uint8_t>* train,
                        std::vector<uint8_t>* test) {
  const std::string dir = tmp.file("cifar10");
  fs::create_directories(dir);
  const int64_t counts[] = {3, 1, 2, 1, 4};
  for (int b = 0; b < 5; ++b) {
    const std::vector<uint8_t> file = cifar_records(counts[b], 3073, {0}, 10, 100 + b);
    write_file(dir + "/data_batch_" + std::to_string(b + 1) + ".bin", file);
    train->insert(train->end(), file.begin(), file.end());
  }
  *test = cifar_records(5, 3073, {0}, 10, 110);
  write_file(dir + "/test_batch.bin", *test);
  return dir;
}

// The center size x size window of an image whose shorter side is already `size`.
Image center_window(const Image& image, int64_t size) {
  const int64_t top = (image.height - size) / 2, left = (image.width - size) / 2;
  Image out{size, size, image.channels, {}};
  for (int64_t y = top; y < top + size; ++y)
    for (int64_t x = left; x < left + size; ++x)
      for (int64_t c = 0; c < image.channels; ++c)
        out.pixels.push_back(
            image.pixels[static_cast<size_t>((y * image.width + x) * image.channels + c)]);
  return out;
}

std::vector<uint8_t> sample(const Dataset& data, int64_t i) {
  const std::vector<uint8_t> all = to_vector<uint8_t>(data.images);
  const size_t bytes = static_cast<size_t>(data.height() * data.width() * data.channels());
  return {all.begin() + static_cast<ptrdiff_t>(bytes * static_cast<size_t>(i)),
          all.begin() + static_cast<ptrdiff_t>(bytes * static_cast<size_t>(i + 1))};
}

int max_difference(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  REQUIRE(a.size() == b.size());
  int worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(int{a[i]} - int{b[i]}));
  return worst;
}

// Classes Zeta (y.png; upper case sorts first, as in Python), apple (a.JPEG, b.png, and notes.txt
// to ignore), mango (m.png) and zebra (z1.PNG and nested/z0.jpg), plus a stray file at the root;
// all offsets of the center crops at size 5 are whole, so the crops are exact windows. The smooth
// JPEGs keep JPEG's error small.
struct Folder {
  std::string root;
  Image y, a, b, m, z1, z0;
};

Folder make_folder(test::TempDir& tmp) {
  Folder f{tmp.file("folder"),
           test::random_image(5, 5, 1, 199),
           test::random_image(11, 6, 3, 200),
           test::random_image(9, 5, 1, 201),
           test::random_image(23, 17, 3, 202),
           test::random_image(5, 7, 3, 203),
           test::random_image(5, 5, 3, 204)};
  for (Image* smooth : {&f.a, &f.z0})
    for (size_t i = 0; i < smooth->pixels.size(); ++i)
      smooth->pixels[i] = static_cast<uint8_t>(60 + (i / 3) % 50 + smooth->pixels[i] % 6);
  for (const char* sub : {"Zeta", "apple", "mango", "zebra/nested"})
    fs::create_directories(f.root + "/" + sub);
  test::write_png(f.root + "/Zeta/y.png", f.y);
  test::write_jpeg(f.root + "/apple/a.JPEG", f.a, 100);
  test::write_png(f.root + "/apple/b.png", f.b);
  test::write_bytes(f.root + "/apple/notes.txt", "not an image");
  test::write_png(f.root + "/mango/m.png", f.m, true);
  test::write_png(f.root + "/zebra/z1.PNG", f.z1);
  test::write_jpeg(f.root + "/zebra/nested/z0.jpg", f.z0, 100);
  test::write_bytes(f.root + "/readme.txt", "not a class");
  return f;
}

}  // namespace

TEST_CASE("load_idx reads random IDX pairs exactly, gzipped and plain", "[simclr][dataset]") {
  test::TempDir tmp("simclr_idx_");
  for (bool gz : {false, true}) {
    INFO("gzipped: " << gz);
    const std::string images = tmp.file(gz ? "images.gz" : "images");
    const std::string labels = tmp.file(gz ? "labels.gz" : "labels");
    const IdxPair pair = write_idx_pair(images, labels, 37, 11, 13, 7, gz, gz ? 1 : 2);
    const Dataset data = load_idx(images, labels, "random");
    REQUIRE(data.name == "random");
    REQUIRE(data.images.shape() == Shape{37, 11, 13, 1});
    REQUIRE(data.images.dtype() == DType::u8);
    REQUIRE(data.images.device().is_cpu());
    REQUIRE(data.images.is_contiguous());
    REQUIRE(to_vector<uint8_t>(data.images) == pair.pixels);
    require_labels(data, pair.labels);
    const int64_t classes = *std::max_element(pair.labels.begin(), pair.labels.end()) + 1;
    REQUIRE(data.num_classes == classes);
    REQUIRE(data.class_names.size() == static_cast<size_t>(classes));
    REQUIRE(data.class_names.back() == std::to_string(classes - 1));
    REQUIRE(
        (data.size() == 37 && data.height() == 11 && data.width() == 13 && data.channels() == 1));
  }
}

TEST_CASE("load_fashion_mnist picks the split's files and prefers .gz", "[simclr][dataset]") {
  test::TempDir tmp("simclr_fmnist_");
  const std::string dir = tmp.file("fmnist");
  fs::create_directories(dir);
  const std::string train = dir + "/train-images-idx3-ubyte",
                    train_labels = dir + "/train-labels-idx1-ubyte";
  write_idx_pair(train, train_labels, 5, 28, 28, 10, false, 3);
  const IdxPair test_pair =
      write_idx_pair(dir + "/t10k-images-idx3-ubyte.gz", dir + "/t10k-labels-idx1-ubyte.gz", 3, 28,
                     28, 10, true, 4);
  const Dataset plain = load_fashion_mnist(dir, Split::train);
  REQUIRE(plain.size() == 5);
  const IdxPair gz_pair =
      write_idx_pair(train + ".gz", train_labels + ".gz", 4, 28, 28, 10, true, 5);
  const Dataset train_data = load_fashion_mnist(dir, Split::train);
  REQUIRE(to_vector<uint8_t>(train_data.images) == gz_pair.pixels);
  require_labels(train_data, gz_pair.labels);
  const Dataset test_data = load_fashion_mnist(dir, Split::test);
  REQUIRE(to_vector<uint8_t>(test_data.images) == test_pair.pixels);
  REQUIRE(test_data.name == "fashion-mnist");
  REQUIRE(test_data.num_classes == 10);
  REQUIRE(test_data.class_names.size() == 10);
  REQUIRE(test_data.class_names[0] == "T-shirt/top");
  REQUIRE(test_data.class_names[9] == "Ankle boot");
}

TEST_CASE("load_idx errors name the files, expected and found", "[simclr][dataset]") {
  test::TempDir tmp("simclr_idx_errors_");
  const std::string images = tmp.file("images"), labels = tmp.file("labels");
  const IdxPair pair = write_idx_pair(images, labels, 5, 4, 3, 10, false, 6);
  const auto throws = [&](const std::string& img, const std::string& lab,
                          const std::vector<std::string>& fragments) {
    for (const std::string& f : fragments)
      REQUIRE_THROWS_WITH(load_idx(img, lab, "x"), Catch::Contains(f));
  };
  const std::string missing = tmp.file("missing");
  throws(missing, labels, {"'" + missing + "'", "No such file"});
  const std::string bad = tmp.file("bad");
  write_file(bad, idx_file(2049, {5, 4, 3}, pair.pixels));
  throws(bad, labels, {"'" + bad + "'", "expected the magic number 2051, found 2049"});
  write_file(bad, idx_file(2051, {5}, pair.labels));
  throws(images, bad, {"'" + bad + "'", "expected the magic number 2049, found 2051"});
  write_file(bad, {0, 0, 8, 3, 0, 0});
  throws(bad, labels, {"'" + bad + "'", "expected 16 bytes of IDX header, found 6"});
  write_file(bad, idx_file(2051, {5, 4, 3},
                           std::vector<uint8_t>(pair.pixels.begin(), pair.pixels.end() - 7)));
  throws(bad, labels, {"'" + bad + "'", "truncated: expected 60 bytes of pixels, found 53"});
  std::vector<uint8_t> longer = idx_file(2051, {5, 4, 3}, pair.pixels);
  longer.push_back(1);
  write_file(bad, longer);
  throws(bad, labels, {"'" + bad + "'", "has bytes after the pixels"});
  write_file(bad, idx_file(2051, {5, 0, 3}, {}));
  throws(bad, labels, {"expected positive IDX dimensions, found 0 in dimension 1"});
  write_file(bad, idx_file(2049, {6}, random_bytes(6, 7, 0, 9)));
  throws(images, bad, {"'" + images + "' holds 5 images", "'" + bad + "' holds 6 labels"});
}

TEST_CASE("load_idx rejects cut and corrupt gzip streams", "[simclr][dataset]") {
  test::TempDir tmp("simclr_gz_errors_");
  const std::string images = tmp.file("images.gz"), labels = tmp.file("labels.gz");
  write_idx_pair(images, labels, 9, 8, 7, 10, true, 8);
  const std::string gz = test::read_bytes(images);
  const std::string bad = tmp.file("bad.gz");
  test::write_bytes(bad, gz.substr(0, gz.size() - 4));  // the trailer's length field cut
  REQUIRE_THROWS_WITH(load_idx(bad, labels, "x"),
                      Catch::Contains("'" + bad + "' is truncated: its gzip stream ends"));
  test::write_bytes(bad, gz.substr(0, gz.size() / 2));
  REQUIRE_THROWS_WITH(load_idx(bad, labels, "x"),
                      Catch::Contains("'" + bad + "' is truncated: expected 504 bytes of pixels"));
  std::string corrupt = gz;
  for (size_t i = 20; i < 40; ++i) corrupt[i] = static_cast<char>(~corrupt[i]);
  test::write_bytes(bad, corrupt);
  REQUIRE_THROWS_WITH(load_idx(bad, labels, "x"), Catch::Contains("'" + bad + "': zlib error"));
}

TEST_CASE("load_fashion_mnist errors: directory, files, label range", "[simclr][dataset]") {
  test::TempDir tmp("simclr_fmnist_errors_");
  const std::string dir = tmp.file("fmnist");
  REQUIRE_THROWS_WITH(load_fashion_mnist(dir, Split::train),
                      Catch::Contains("expected a directory at '" + dir + "', found nothing"));
  fs::create_directories(dir);
  REQUIRE_THROWS_WITH(load_fashion_mnist(dir, Split::test),
                      Catch::Contains("neither '" + dir + "/t10k-labels-idx1-ubyte.gz' nor"));
  const std::string labels = dir + "/t10k-labels-idx1-ubyte";
  write_idx_pair(dir + "/t10k-images-idx3-ubyte", labels, 6, 5, 5, 10, false, 9);
  std::vector<uint8_t> bytes = random_bytes(6, 10, 0, 9);
  bytes[3] = 10;
  write_file(labels, idx_file(2049, {6}, bytes));
  REQUIRE_THROWS_WITH(load_fashion_mnist(dir, Split::test),
                      Catch::Contains("'" + labels + "' label 3 is 10; expected 0..9"));
}

TEST_CASE("load_cifar10 maps CHW records to HWC images with their labels", "[simclr][dataset]") {
  test::TempDir tmp("simclr_cifar10_");
  std::vector<uint8_t> train, test_records;
  const std::string dir = cifar10_dir(tmp, &train, &test_records);
  const Dataset numbered = load_cifar10(dir, Split::test);
  require_cifar(numbered, test_records, 3073, 0);
  REQUIRE(numbered.class_names ==
          std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"});
  test::write_bytes(dir + "/batches.meta.txt",
                    "airplane\r\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n\n");
  const Dataset data = load_cifar10(dir, Split::train);
  require_cifar(data, train, 3073, 0);
  REQUIRE(data.name == "cifar10");
  REQUIRE(data.num_classes == 10);
  REQUIRE(data.class_names.front() == "airplane");
  REQUIRE(data.class_names[1] == "automobile");
  REQUIRE(data.class_names.back() == "truck");
}

TEST_CASE("load_cifar100 uses the fine label and its names", "[simclr][dataset]") {
  test::TempDir tmp("simclr_cifar100_");
  const std::string dir = tmp.file("cifar100");
  fs::create_directories(dir);
  std::vector<uint8_t> records = cifar_records(7, 3074, {0}, 20, 120);
  const std::vector<uint8_t> fine = random_bytes(7, 121, 0, 99);
  for (size_t r = 0; r < 7; ++r) records[r * 3074 + 1] = fine[r];
  write_file(dir + "/train.bin", records);
  std::string names;
  for (int c = 0; c < 100; ++c) names += "class_" + std::to_string(c) + "\n";
  test::write_bytes(dir + "/fine_label_names.txt", names);
  const Dataset data = load_cifar100(dir, Split::train);
  require_cifar(data, records, 3074, 1);
  REQUIRE(data.name == "cifar100");
  REQUIRE(data.num_classes == 100);
  REQUIRE(data.class_names[37] == "class_37");
  REQUIRE_THROWS_WITH(load_cifar100(dir, Split::test),
                      Catch::Contains("missing file '" + dir + "/test.bin'"));
}

TEST_CASE("load_cifar errors: record size, missing batch, label range, names",
          "[simclr][dataset]") {
  test::TempDir tmp("simclr_cifar_errors_");
  std::vector<uint8_t> train, test_records;
  const std::string dir = cifar10_dir(tmp, &train, &test_records);
  std::vector<uint8_t> odd = test_records;
  odd.resize(3073 * 2 + 5);
  write_file(dir + "/test_batch.bin", odd);
  REQUIRE_THROWS_WITH(load_cifar10(dir, Split::test),
                      Catch::Contains("'" + dir + "/test_batch.bin' has 6151 bytes") &&
                          Catch::Contains("multiple of the 3073-byte record"));
  std::vector<uint8_t> bad_label = test_records;
  bad_label[3073] = 10;
  write_file(dir + "/test_batch.bin", bad_label);
  REQUIRE_THROWS_WITH(load_cifar10(dir, Split::test),
                      Catch::Contains("'" + dir +
                                      "/test_batch.bin' record 1 has the label 10; "
                                      "expected 0..9"));
  test::write_bytes(dir + "/batches.meta.txt", "a\nb\nc\nd\ne\nf\ng\nh\ni\n");
  REQUIRE_THROWS_WITH(load_cifar10(dir, Split::train),
                      Catch::Contains("batches.meta.txt' lists 9 class names; expected 10"));
  fs::remove(dir + "/data_batch_3.bin");
  REQUIRE_THROWS_WITH(load_cifar10(dir, Split::train),
                      Catch::Contains("missing file '" + dir + "/data_batch_3.bin'"));
  std::vector<uint8_t> fine = cifar_records(2, 3074, {0, 1}, 100, 130);
  fine[3074 + 1] = 100;
  write_file(dir + "/test.bin", fine);
  REQUIRE_THROWS_WITH(load_cifar100(dir, Split::test),
                      Catch::Contains("record 1 has the label 100; expected 0..99"));
}

TEST_CASE("load_image_folder: ImageFolder's classes and order, resized and cropped",
          "[simclr][dataset]") {
  test::TempDir tmp("simclr_folder_");
  const Folder f = make_folder(tmp);
  const Dataset data = load_image_folder(f.root, {5, 3, 3});
  REQUIRE(data.name == "folder:" + f.root);
  REQUIRE(data.class_names == std::vector<std::string>{"Zeta", "apple", "mango", "zebra"});
  REQUIRE(data.num_classes == 4);
  REQUIRE(data.images.shape() == Shape{6, 5, 5, 3});
  require_labels(data, {0, 1, 1, 2, 3, 3});
  CHECK(sample(data, 0) == convert_channels(f.y, 3).pixels);
  // a.JPEG is 11 x 6: Resize(5) makes it 9 x 5 first.
  CHECK(max_difference(sample(data, 1), resize_center_crop(f.a, 5).pixels) <= 4);
  CHECK(sample(data, 2) == convert_channels(center_window(f.b, 5), 3).pixels);
  CHECK(sample(data, 3) == resize_center_crop(f.m, 5).pixels);
  CHECK(sample(data, 4) == center_window(f.z1, 5).pixels);
  CHECK(max_difference(sample(data, 5), f.z0.pixels) <= 4);

  const Dataset gray = load_image_folder(f.root, {5, 1, 1});
  REQUIRE(gray.images.shape() == Shape{6, 5, 5, 1});
  CHECK(sample(gray, 2) == center_window(f.b, 5).pixels);
  CHECK(sample(gray, 3) == resize_center_crop(convert_channels(f.m, 1), 5).pixels);
  CHECK(sample(gray, 4) == convert_channels(center_window(f.z1, 5), 1).pixels);
  for (int threads : {0, 2, 7})
    CHECK(to_vector<uint8_t>(load_image_folder(f.root, {5, 3, threads}).images) ==
          to_vector<uint8_t>(data.images));
  REQUIRE(to_vector<uint8_t>(load_dataset("folder", f.root, Split::test, {5, 3, 2}).images) ==
          to_vector<uint8_t>(data.images));
}

TEST_CASE("load_image_folder errors name the folder or the image", "[simclr][dataset]") {
  test::TempDir tmp("simclr_folder_errors_");
  const Folder f = make_folder(tmp);
  const std::string missing = tmp.file("missing");
  REQUIRE_THROWS_WITH(load_image_folder(missing, {}),
                      Catch::Contains("expected a directory at '" + missing + "', found nothing"));
  REQUIRE_THROWS_WITH(load_image_folder(f.root + "/readme.txt", {}),
                      Catch::Contains("found something else"));
  REQUIRE_THROWS_WITH(load_image_folder(f.root + "/mango", {}),
                      Catch::Contains("'" + f.root + "/mango' has no sub-folders"));
  REQUIRE_THROWS_WITH(load_image_folder(f.root, {0, 3, 1}),
                      Catch::Contains("expected a positive image size, got 0"));
  REQUIRE_THROWS_WITH(load_image_folder(f.root, {5, 2, 1}),
                      Catch::Contains("expected 1 or 3 channels, got 2"));
  fs::create_directories(f.root + "/empty/sub");
  test::write_bytes(f.root + "/empty/sub/list.csv", "1,2");
  fs::create_directories(f.root + "/void");
  REQUIRE_THROWS_WITH(load_image_folder(f.root, {}),
                      Catch::Contains("the class folders 'empty', 'void' hold no .png, .jpg or "
                                      ".jpeg file"));
  fs::remove_all(f.root + "/empty");
  fs::remove_all(f.root + "/void");
  const std::string broken = f.root + "/mango/n.png";
  test::write_bytes(broken, "\x89PNG\r\n\x1a\n but nothing after the signature");
  for (int threads : {1, 4})
    REQUIRE_THROWS_WITH(load_image_folder(f.root, {5, 3, threads}),
                        Catch::Contains("'" + broken + "' is not a readable PNG"));
}

TEST_CASE("load_fashion_mnist reads Debian's Fashion-MNIST", "[simclr][dataset]") {
  const std::string dir = "/usr/share/datasets/fashion-mnist";
  if (!fs::is_directory(dir))
    FAIL(dir << " is missing: install Debian's dataset-fashion-mnist package");
  const Dataset train = load_fashion_mnist(dir, Split::train);
  const Dataset test_data = load_fashion_mnist(dir, Split::test);
  REQUIRE(train.images.shape() == Shape{60000, 28, 28, 1});
  REQUIRE(test_data.images.shape() == Shape{10000, 28, 28, 1});
  const std::vector<int64_t> labels = to_vector<int64_t>(train.labels);
  REQUIRE(labels.front() == 9);
  REQUIRE(train.class_names[static_cast<size_t>(labels.front())] == "Ankle boot");
  // Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class.
  for (const auto& [data, per_class] : {std::pair{&train, 6000}, std::pair{&test_data, 1000}}) {
    std::vector<int> counts(10, 0);
    for (int64_t label : to_vector<int64_t>(data->labels)) ++counts[static_cast<size_t>(label)];
    REQUIRE(counts == std::vector<int>(10, per_class));
  }
}

TEST_CASE("load_dataset dispatches on the kind and rejects unknown ones", "[simclr][dataset]") {
  test::TempDir tmp("simclr_load_dataset_");
  std::vector<uint8_t> train, test_records;
  const std::string dir = cifar10_dir(tmp, &train, &test_records);
  require_cifar(load_dataset("cifar10", dir, Split::test), test_records, 3073, 0);
  REQUIRE_THROWS_WITH(load_dataset("imagenet", dir, Split::train),
                      Catch::Contains("unknown data set kind 'imagenet'; expected fashion-mnist, "
                                      "cifar10, cifar100 or folder"));
}

}  // namespace simclr
