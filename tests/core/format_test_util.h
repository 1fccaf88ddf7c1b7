// Helpers shared by the file-format tests (npy_test.cpp, safetensors_test.cpp): a temp dir of this
// process's own, raw file bytes, a tensor's element and storage bytes, and random tensors of any
// dtype. Built on test_util.h.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "core/file_io.h"
#include "test_util.h"

namespace simclr::test {

// A directory of this process's own under the system's temp dir (named from `prefix` and the pid),
// removed with the object; each test file holds one.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix)
      : path_(std::filesystem::temp_directory_path() / (prefix + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // A fresh path in the directory: unique per call.
  std::string file(const std::string& name) {
    return (path_ / (std::to_string(counter_++) + "_" + name)).string();
  }

 private:
  std::filesystem::path path_;
  int counter_ = 0;
};

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

inline std::string read_bytes(const std::string& path) {
  const std::vector<char> data = read_file(path);
  return std::string(data.begin(), data.end());
}

// The elements of t, row-major, through the kernels' own copy (independent of copy_tensor_bytes).
inline std::vector<char> element_bytes(const Tensor& t) {
  std::vector<char> out;
  dispatch_all(t.dtype(), "element_bytes", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const std::vector<T> v = to_vector<T>(t);
    out.resize(v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());
  });
  return out;
}

// The bytes of t's storage from its first element on, as they lie in memory.
inline std::vector<char> raw_bytes(const Tensor& t) {
  const char* p = static_cast<const char*>(t.data_ptr());
  return t.nbytes() ? std::vector<char>(p, p + t.nbytes()) : std::vector<char>();
}

// Random values of any dtype: integers are drawn in f64 and cast.
inline Tensor random_of(const Shape& shape, DType dtype, uint64_t seed) {
  switch (dtype) {
    case DType::u8:
      return to(random_tensor(shape, DType::f64, seed, 0, 255), dtype);
    case DType::i32:
      return to(random_tensor(shape, DType::f64, seed, -2e9, 2e9), dtype);
    case DType::i64:
      return to(random_tensor(shape, DType::f64, seed, -1e15, 1e15), dtype);
    default:
      return random_tensor(shape, dtype, seed);
  }
}

}  // namespace simclr::test
