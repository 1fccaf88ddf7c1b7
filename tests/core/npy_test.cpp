// NumPy .npy files (core/npy.h).
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "core/npy.h"
#include "format_test_util.h"

using namespace simclr;
namespace fs = std::filesystem;

namespace {

using namespace test;

// A fresh path in this file's temp dir, removed at exit.
std::string temp_file(const std::string& name) {
  static TempDir dir("simclr_npy_test_");
  return dir.file(name);
}

// A .npy file written by hand: magic, version, header length, the dict padded with spaces and a
// newline to a multiple of 64 bytes, then the data.
std::string crafted(int major, const std::string& dict, const std::string& data) {
  const size_t len_bytes = major == 1 ? 2 : 4;
  std::string header = dict;
  while ((8 + len_bytes + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string file = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
  for (size_t i = 0; i < len_bytes; ++i)
    file += static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  const std::string path = temp_file("crafted.npy");
  write_bytes(path, file + header + data);
  return path;
}

const char* const kF32Pair = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
const std::string kTwoFloats("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8);  // 1.0, -2.0

}  // namespace

TEST_CASE("npy round trip of every dtype at odd shapes is bit exact", "[core][formats]") {
  const std::vector<Tensor> tensors = {
      random_of({3, 5, 7}, DType::f32, 1),
      random_of({}, DType::f64, 2),
      random_of({4, 1, 3}, DType::f16, 3),
      random_of({11}, DType::u8, 4),
      random_of({2, 3, 5}, DType::i32, 5),
      random_of({13}, DType::i64, 6),
      transpose(random_of({5, 3}, DType::f32, 7), 0, 1),
      slice(random_of({4, 9}, DType::i64, 8), 1, 1, 9, 3),
      random_of({0, 3}, DType::f32, 9),
  };
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& expected = tensors[i];
    INFO(expected.str());
    const std::string path = temp_file("round_trip.npy");
    save_npy(path, expected);
    const Tensor got = load_npy(path);
    REQUIRE(got.dtype() == expected.dtype());
    REQUIRE(got.shape() == expected.shape());
    REQUIRE(got.device() == Device::cpu());
    REQUIRE(got.is_contiguous());
    REQUIRE(raw_bytes(got) == element_bytes(expected));
    const std::string bytes = read_bytes(path);
    REQUIRE(bytes.size() >= 64);
    const size_t header_end = bytes.size() - expected.nbytes();
    REQUIRE(header_end % 64 == 0);
    REQUIRE(bytes[header_end - 1] == '\n');
  }
}

TEST_CASE("npy refuses bf16 and suggests f32", "[core][formats]") {
  const std::string path = temp_file("bf16.npy");
  REQUIRE_THROWS_WITH(save_npy(path, random_of({2, 2}, DType::bf16, 10)),
                      Catch::Contains(path) && Catch::Contains("bf16 has no NumPy dtype") &&
                          Catch::Contains("f32"));
  REQUIRE_FALSE(fs::exists(path));
}

TEST_CASE("npy header of a 2x3 float32 array is what numpy writes", "[core][formats]") {
  const std::string path = temp_file("numpy_header.npy");
  save_npy(path, from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}));
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  std::string expected = std::string("\x93NUMPY\x01\x00v\x00", 10) + dict;
  expected += std::string(128 - 1 - expected.size(), ' ') + "\n";
  REQUIRE(expected.size() == 128);
  const float values[] = {1, 2, 3, 4, 5, 6};
  expected += std::string(reinterpret_cast<const char*>(values), sizeof values);
  REQUIRE(read_bytes(path) == expected);
}

TEST_CASE("npy headers of 0-d and 1-d arrays carry the right shape tuples", "[core][formats]") {
  const std::string scalar = temp_file("scalar.npy");
  save_npy(scalar, random_of({}, DType::f64, 11));
  const std::string s = read_bytes(scalar);
  REQUIRE(s.size() == 128 + 8);
  const std::string scalar_dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (), }";
  REQUIRE(s.substr(10, scalar_dict.size() + 1) == scalar_dict + " ");
  REQUIRE(s[127] == '\n');

  const std::string vector = temp_file("vector.npy");
  save_npy(vector, random_of({5}, DType::u8, 12));
  const std::string v = read_bytes(vector);
  REQUIRE(v.size() == 128 + 5);
  const std::string vector_dict = "{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }";
  REQUIRE(v.substr(10, vector_dict.size() + 1) == vector_dict + " ");
  REQUIRE(v[127] == '\n');
}

TEST_CASE("npy header keeps numpy's spare room for the first axis", "[core][formats]") {
  // numpy adds 21 - len(repr(shape[0])) spaces before padding: with 16 dimensions that pushes
  // the header past 128 bytes to 192.
  const std::vector<int64_t> dims = {0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  const std::string path = temp_file("growth.npy");
  save_npy(path, Tensor::empty(Shape(dims), DType::f32));
  const std::string bytes = read_bytes(path);
  REQUIRE(bytes.size() == 192);
  REQUIRE(bytes.substr(8, 2) == std::string("\xb6\x00", 2));  // 182 = 192 - 10
  REQUIRE(load_npy(path).shape() == Shape(dims));
}

TEST_CASE("npy loads version 2 and 3 headers in any key order", "[core][formats]") {
  const std::string v2 =
      crafted(2, "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}", kTwoFloats);
  Tensor t = load_npy(v2);
  REQUIRE(t.shape() == Shape({2}));
  REQUIRE(to_vector<float>(t) == std::vector<float>{1.0f, -2.0f});
  const std::string v3 =
      crafted(3, "{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (1, 2)}", kTwoFloats);
  t = load_npy(v3);
  REQUIRE(t.dtype() == DType::i32);
  REQUIRE(t.shape() == Shape({1, 2}));
  REQUIRE(raw_bytes(t) == std::vector<char>(kTwoFloats.begin(), kTwoFloats.end()));
  const std::string v1 = crafted(1, kF32Pair, kTwoFloats);
  REQUIRE(to_vector<float>(load_npy(v1)) == std::vector<float>{1.0f, -2.0f});
}

TEST_CASE("npy rejects fortran order", "[core][formats]") {
  const std::string path =
      crafted(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", kTwoFloats);
  REQUIRE_THROWS_WITH(load_npy(path),
                      Catch::Contains(path) && Catch::Contains("fortran_order True"));
}

TEST_CASE("npy rejects big-endian data", "[core][formats]") {
  const std::string path =
      crafted(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", kTwoFloats);
  REQUIRE_THROWS_WITH(load_npy(path), Catch::Contains(path) && Catch::Contains("big-endian") &&
                                          Catch::Contains("'>f4'"));
}

TEST_CASE("npy rejects truncated data", "[core][formats]") {
  const std::string path =
      crafted(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", kTwoFloats);
  REQUIRE_THROWS_WITH(load_npy(path), Catch::Contains(path) && Catch::Contains("truncated") &&
                                          Catch::Contains("needs 16 bytes"));
}

TEST_CASE("npy rejects a file without the magic", "[core][formats]") {
  const std::string path = temp_file("not.npy");
  write_bytes(path, "PK\x03\x04 this is a zip");
  REQUIRE_THROWS_WITH(load_npy(path), Catch::Contains(path) && Catch::Contains("not a .npy file"));
  write_bytes(path, "\x93NUM");
  REQUIRE_THROWS_WITH(load_npy(path), Catch::Contains(path) && Catch::Contains("not a .npy file"));
}

TEST_CASE("npy rejects an unknown version", "[core][formats]") {
  std::string bytes = read_bytes(crafted(1, kF32Pair, kTwoFloats));
  bytes[6] = 4;
  const std::string path = temp_file("version.npy");
  write_bytes(path, bytes);
  REQUIRE_THROWS_WITH(load_npy(path),
                      Catch::Contains(path) && Catch::Contains("unsupported .npy version 4.0"));
}

TEST_CASE("npy rejects a header length past the end of the file", "[core][formats]") {
  const std::string path = temp_file("header_len.npy");
  write_bytes(path, std::string("\x93NUMPY\x01\x00\xff\x00{'descr'", 17));
  REQUIRE_THROWS_WITH(load_npy(path), Catch::Contains(path) &&
                                          Catch::Contains("header length 255") &&
                                          Catch::Contains("past the end"));
}

TEST_CASE("npy rejects a header it cannot parse", "[core][formats]") {
  const std::string path =
      crafted(1, "{'descr': '<f4', 'fortran_order': Fals, 'shape': (2,), }", kTwoFloats);
  REQUIRE_THROWS_WITH(load_npy(path),
                      Catch::Contains(path) && Catch::Contains("cannot parse the header"));
  const std::string one = crafted(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", "");
  REQUIRE_THROWS_WITH(load_npy(one), Catch::Contains(one) && Catch::Contains("cannot parse"));
}

TEST_CASE("npy rejects a header without shape", "[core][formats]") {
  const std::string path = crafted(1, "{'descr': '<f4', 'fortran_order': False}", kTwoFloats);
  REQUIRE_THROWS_WITH(load_npy(path),
                      Catch::Contains(path) && Catch::Contains("the header has no 'shape'"));
}

TEST_CASE("npy rejects dtypes it does not hold", "[core][formats]") {
  const std::string complex =
      crafted(1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", kTwoFloats);
  REQUIRE_THROWS_WITH(load_npy(complex), Catch::Contains(complex) &&
                                             Catch::Contains("unsupported dtype '<c8'") &&
                                             Catch::Contains("'<f4'"));
  const std::string structured =
      crafted(1, "{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1,), }", kTwoFloats);
  REQUIRE_THROWS_WITH(load_npy(structured),
                      Catch::Contains(structured) && Catch::Contains("structured"));
}

TEST_CASE("npy rejects a negative dimension", "[core][formats]") {
  const std::string path =
      crafted(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", kTwoFloats);
  REQUIRE_THROWS_WITH(load_npy(path),
                      Catch::Contains(path) && Catch::Contains("negative dimension -2"));
}
