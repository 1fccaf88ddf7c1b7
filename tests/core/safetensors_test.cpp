// safetensors files and the atomic writes under them (core/safetensors.h, core/file_io.h).
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "core/file_io.h"
#include "core/safetensors.h"
#include "format_test_util.h"

using namespace simclr;
namespace fs = std::filesystem;

namespace {

using namespace test;

// This file's temp dir, removed at exit.
TempDir& temp() {
  static TempDir dir("simclr_safetensors_test_");
  return dir;
}

const fs::path& temp_dir() {
  return temp().path();
}

// A fresh path in the temp dir: unique per call.
std::string temp_file(const std::string& name) {
  return temp().file(name);
}

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return s;
}

// A safetensors file from a header text and a data buffer, as written by hand.
std::string crafted(const std::string& header, const std::string& buffer) {
  const std::string path = temp_file("crafted.safetensors");
  write_bytes(path, le64(header.size()) + header + buffer);
  return path;
}

const char* const kEntry = R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
const std::string kEightBytes(8, '\x01');

// A file of eight data bytes whose header holds one F32 tensor "w" with the given JSON texts as
// its shape and data_offsets.
std::string crafted_f32(const std::string& shape, const std::string& data_offsets) {
  return crafted(
      R"({"w": {"dtype": "F32", "shape": )" + shape + R"(, "data_offsets": )" + data_offsets + "}}",
      kEightBytes);
}

}  // namespace

TEST_CASE("safetensors round trip of every dtype at odd shapes is bit exact", "[core][formats]") {
  const Tensor base = test::random_tensor({5, 3}, DType::f32, 11);
  const std::vector<std::pair<std::string, Tensor>> tensors = {
      {"conv1.weight", random_of({3, 5, 7}, DType::f32, 1)},
      {"scalar", random_of({}, DType::f64, 2)},
      {"layer1.0.bn1.weight", random_of({1, 9}, DType::bf16, 3)},
      {"half", random_of({4, 1, 3}, DType::f16, 4)},
      {"bytes", random_of({11}, DType::u8, 5)},
      {"ints", random_of({2, 3, 5}, DType::i32, 6)},
      {"longs", random_of({13}, DType::i64, 7)},
      {"transposed", transpose(base, 0, 1)},
      {"strided", slice(random_of({4, 9}, DType::f64, 8), 1, 1, 9, 3)},
      {"empty", random_of({0, 3}, DType::f32, 9)},
  };
  REQUIRE_FALSE(tensors[7].second.is_contiguous());
  REQUIRE_FALSE(tensors[8].second.is_contiguous());
  const std::string path = temp_file("every_dtype.safetensors");
  save_safetensors(path, tensors);
  const SafetensorsData loaded = load_safetensors(path);
  REQUIRE(loaded.metadata.empty());
  REQUIRE(loaded.tensors.size() == tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, expected] = tensors[i];
    const auto& [loaded_name, got] = loaded.tensors[i];
    INFO(name);
    REQUIRE(loaded_name == name);
    REQUIRE(got.dtype() == expected.dtype());
    REQUIRE(got.shape() == expected.shape());
    REQUIRE(got.device() == Device::cpu());
    REQUIRE(got.is_contiguous());
    REQUIRE(raw_bytes(got) == element_bytes(expected));
  }
  REQUIRE(loaded.find("scalar")->ndim() == 0);
}

TEST_CASE("safetensors metadata round trip", "[core][formats]") {
  const std::map<std::string, std::string> metadata = {
      {"format", "pt"}, {"epoch", "7"}, {"note", "quotes \" and \\ and \xc3\xbc"}, {"empty", ""}};
  const std::string path = temp_file("metadata.safetensors");
  save_safetensors(path, {{"w", random_of({2, 2}, DType::f32, 21)}}, metadata);
  const SafetensorsData loaded = load_safetensors(path);
  REQUIRE(loaded.metadata == metadata);
  REQUIRE(loaded.tensors.size() == 1);
}

TEST_CASE("safetensors keeps the order of the tensors given", "[core][formats]") {
  const std::vector<std::string> names = {"z", "a", "m.weight", "b", "0"};
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (size_t i = 0; i < names.size(); ++i)
    tensors.emplace_back(names[i], random_of({static_cast<int64_t>(i) + 1}, DType::f32, 30 + i));
  const std::string path = temp_file("order.safetensors");
  save_safetensors(path, tensors);
  const SafetensorsData loaded = load_safetensors(path);
  REQUIRE(loaded.tensors.size() == names.size());
  for (size_t i = 0; i < names.size(); ++i) REQUIRE(loaded.tensors[i].first == names[i]);
  REQUIRE(loaded.find("m.weight") != nullptr);
  REQUIRE(loaded.find("m.weight")->numel() == 3);
  REQUIRE(loaded.find("missing") == nullptr);
}

TEST_CASE("safetensors bytes match the format spec", "[core][formats]") {
  const std::string path = temp_file("spec.safetensors");
  save_safetensors(
      path,
      {{"a", from_vector<float>({1.0f, -2.0f}, {2})}, {"b", from_vector<uint8_t>({1, 2, 3}, {3})}},
      {{"format", "pt"}});
  // 138 bytes of JSON, padded with 6 spaces to 144 = 0x90.
  const std::string json = R"({"__metadata__":{"format":"pt"},)"
                           R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}})";
  REQUIRE(json.size() == 138);
  const std::string expected = std::string("\x90\0\0\0\0\0\0\0", 8) + json + "      " +
                               std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8) + "\x01\x02\x03";
  REQUIRE(read_bytes(path) == expected);
}

TEST_CASE("safetensors rejects duplicate names on save", "[core][formats]") {
  const std::string path = temp_file("duplicate.safetensors");
  const Tensor t = random_of({2}, DType::f32, 40);
  REQUIRE_THROWS_WITH(save_safetensors(path, {{"w", t}, {"v", t}, {"w", t}}),
                      Catch::Contains(path) && Catch::Contains("duplicate tensor name 'w'"));
  REQUIRE_FALSE(fs::exists(path));
  REQUIRE_THROWS_WITH(save_safetensors(path, {{"__metadata__", t}}),
                      Catch::Contains(path) && Catch::Contains("reserved"));
  REQUIRE_THROWS_WITH(save_safetensors(path, {{"w", Tensor()}}),
                      Catch::Contains(path) && Catch::Contains("'w' is undefined"));
}

TEST_CASE("safetensors load of a missing file names it", "[core][formats]") {
  const std::string path = temp_file("missing.safetensors");
  REQUIRE_THROWS_WITH(load_safetensors(path),
                      Catch::Contains(path) && Catch::Contains("No such file or directory"));
}

TEST_CASE("safetensors rejects a file shorter than 8 bytes", "[core][formats]") {
  const std::string path = temp_file("short.safetensors");
  write_bytes(path, "abc");
  REQUIRE_THROWS_WITH(load_safetensors(path),
                      Catch::Contains(path) && Catch::Contains("fewer than the 8-byte header"));
}

TEST_CASE("safetensors rejects a header length larger than the file", "[core][formats]") {
  const std::string path = temp_file("long_header.safetensors");
  write_bytes(path, le64(1000) + "{}");
  REQUIRE_THROWS_WITH(load_safetensors(path), Catch::Contains(path) &&
                                                  Catch::Contains("header length 1000") &&
                                                  Catch::Contains("larger than the file"));
  write_bytes(path, le64(~uint64_t{0}) + "{}");
  REQUIRE_THROWS_WITH(load_safetensors(path),
                      Catch::Contains(path) && Catch::Contains("larger than the file"));
}

TEST_CASE("safetensors rejects a header that is not valid JSON", "[core][formats]") {
  const std::string path = crafted(R"({"w": {"dtype": "F32",)", "");
  REQUIRE_THROWS_WITH(load_safetensors(path), Catch::Contains(path) &&
                                                  Catch::Contains("not valid JSON") &&
                                                  Catch::Contains("parse error"));
}

TEST_CASE("safetensors rejects a header that is not an object", "[core][formats]") {
  const std::string path = crafted("[1, 2]", "");
  REQUIRE_THROWS_WITH(load_safetensors(path), Catch::Contains(path) &&
                                                  Catch::Contains("must be a JSON object") &&
                                                  Catch::Contains("array"));
}

TEST_CASE("safetensors rejects an entry that is not an object", "[core][formats]") {
  const std::string path = crafted(R"({"w": 5})", "");
  REQUIRE_THROWS_WITH(load_safetensors(path), Catch::Contains(path) &&
                                                  Catch::Contains("tensor 'w'") &&
                                                  Catch::Contains("expected an object"));
}

TEST_CASE("safetensors rejects an entry without dtype", "[core][formats]") {
  const std::string path = crafted(R"({"w": {"shape": [2], "data_offsets": [0, 8]}})", kEightBytes);
  REQUIRE_THROWS_WITH(load_safetensors(path), Catch::Contains(path) &&
                                                  Catch::Contains("tensor 'w'") &&
                                                  Catch::Contains("missing \"dtype\""));
}

TEST_CASE("safetensors rejects an entry without shape", "[core][formats]") {
  const std::string path =
      crafted(R"({"w": {"dtype": "F32", "data_offsets": [0, 8]}})", kEightBytes);
  REQUIRE_THROWS_WITH(load_safetensors(path), Catch::Contains(path) &&
                                                  Catch::Contains("tensor 'w'") &&
                                                  Catch::Contains("missing \"shape\""));
}

TEST_CASE("safetensors rejects an entry without data_offsets", "[core][formats]") {
  const std::string path = crafted(R"({"w": {"dtype": "F32", "shape": [2]}})", kEightBytes);
  REQUIRE_THROWS_WITH(load_safetensors(path), Catch::Contains(path) &&
                                                  Catch::Contains("tensor 'w'") &&
                                                  Catch::Contains("missing \"data_offsets\""));
}

TEST_CASE("safetensors rejects a dtype that is not a string", "[core][formats]") {
  const std::string path =
      crafted(R"({"w": {"dtype": 4, "shape": [2], "data_offsets": [0, 8]}})", kEightBytes);
  REQUIRE_THROWS_WITH(load_safetensors(path),
                      Catch::Contains(path) && Catch::Contains("\"dtype\" must be a string"));
}

TEST_CASE("safetensors rejects a shape of the wrong JSON type", "[core][formats]") {
  const std::string text = crafted_f32(R"("2")", "[0, 8]");
  REQUIRE_THROWS_WITH(load_safetensors(text), Catch::Contains(text) &&
                                                  Catch::Contains("\"shape\" must be an array") &&
                                                  Catch::Contains("string"));
  const std::string fractional = crafted_f32("[2.5]", "[0, 8]");
  REQUIRE_THROWS_WITH(
      load_safetensors(fractional),
      Catch::Contains(fractional) && Catch::Contains("\"shape\" must be an array of integers"));
}

TEST_CASE("safetensors rejects an unknown dtype naming the known ones", "[core][formats]") {
  const std::string path =
      crafted(R"({"w": {"dtype": "BOOL", "shape": [8], "data_offsets": [0, 8]}})", kEightBytes);
  REQUIRE_THROWS_WITH(load_safetensors(path),
                      Catch::Contains(path) && Catch::Contains("unknown dtype 'BOOL'") &&
                          Catch::Contains("F32, F64, BF16, F16, U8, I32, I64"));
}

TEST_CASE("safetensors rejects a negative dimension", "[core][formats]") {
  const std::string path = crafted_f32("[-2, 1]", "[0, 8]");
  REQUIRE_THROWS_WITH(load_safetensors(path),
                      Catch::Contains(path) && Catch::Contains("negative dimension -2"));
}

TEST_CASE("safetensors rejects data_offsets that are not two integers", "[core][formats]") {
  for (const char* offsets : {"[0]", "[0, 4, 8]", R"(["0", "8"])", "[-8, 0]", "[0.0, 8]", "8"}) {
    INFO(offsets);
    const std::string path = crafted_f32("[2]", offsets);
    REQUIRE_THROWS_WITH(load_safetensors(path),
                        Catch::Contains(path) &&
                            Catch::Contains("\"data_offsets\" must be two non-negative integers"));
  }
}

TEST_CASE("safetensors rejects data_offsets with begin after end", "[core][formats]") {
  const std::string path = crafted_f32("[0]", "[8, 4]");
  REQUIRE_THROWS_WITH(load_safetensors(path),
                      Catch::Contains(path) && Catch::Contains("begin after end"));
}

TEST_CASE("safetensors rejects data_offsets outside the file", "[core][formats]") {
  const std::string path = crafted_f32("[4]", "[0, 16]");
  REQUIRE_THROWS_WITH(load_safetensors(path), Catch::Contains(path) &&
                                                  Catch::Contains("offsets outside the file") &&
                                                  Catch::Contains("holds 8 bytes"));
}

TEST_CASE("safetensors rejects a byte range that does not fit the shape", "[core][formats]") {
  const std::string path = crafted_f32("[3]", "[0, 8]");
  REQUIRE_THROWS_WITH(load_safetensors(path), Catch::Contains(path) &&
                                                  Catch::Contains("hold 8 bytes") &&
                                                  Catch::Contains("needs 12 bytes"));
}

TEST_CASE("safetensors rejects a shape whose size overflows", "[core][formats]") {
  const std::string path =
      crafted(R"({"w": {"dtype": "F32", "shape": [4611686018427387904, 4611686018427387904, 0], )"
              R"("data_offsets": [0, 0]}})",
              "");
  REQUIRE_THROWS_WITH(load_safetensors(path),
                      Catch::Contains(path) && Catch::Contains("too large"));
  const std::string huge = crafted(
      R"({"w": {"dtype": "F32", "shape": [18446744073709551615], "data_offsets": [0, 0]}})", "");
  REQUIRE_THROWS_WITH(load_safetensors(huge),
                      Catch::Contains(huge) && Catch::Contains("too large"));
}

TEST_CASE("safetensors rejects overlapping tensors naming both", "[core][formats]") {
  const std::string path = crafted(R"({"first": {"dtype": "F32", "shape": [2], )"
                                   R"("data_offsets": [0, 8]}, "second": {"dtype": "F32", )"
                                   R"("shape": [2], "data_offsets": [4, 12]}})",
                                   std::string(12, '\x02'));
  REQUIRE_THROWS_WITH(load_safetensors(path), Catch::Contains(path) && Catch::Contains("'first'") &&
                                                  Catch::Contains("'second'") &&
                                                  Catch::Contains("overlap"));
  // An empty tensor overlaps nothing, wherever it points.
  const std::string empty = crafted(std::string(R"({"w": )") + kEntry +
                                        R"(, "e": {"dtype": "F32", "shape": [0], )"
                                        R"("data_offsets": [4, 4]}})",
                                    kEightBytes);
  REQUIRE(load_safetensors(empty).tensors.size() == 2);
}

TEST_CASE("safetensors rejects metadata that is not a map of strings", "[core][formats]") {
  const std::string number =
      crafted(std::string(R"({"__metadata__": {"format": "pt", "epoch": 3}, "w": )") + kEntry + "}",
              kEightBytes);
  REQUIRE_THROWS_WITH(load_safetensors(number),
                      Catch::Contains(number) && Catch::Contains("must map strings to strings") &&
                          Catch::Contains("'epoch'"));
  const std::string array = crafted(R"({"__metadata__": ["pt"]})", "");
  REQUIRE_THROWS_WITH(
      load_safetensors(array),
      Catch::Contains(array) && Catch::Contains("\"__metadata__\" must be an object"));
}

TEST_CASE("write_file_atomic replaces the target whole", "[core][formats]") {
  const std::string path = temp_file("atomic.bin");
  const std::string long_text(100000, 'a'), short_text = "short";
  write_file_atomic(path, long_text.data(), long_text.size());
  REQUIRE(read_bytes(path) == long_text);
  write_file_atomic(path, short_text.data(), short_text.size());
  REQUIRE(read_bytes(path) == short_text);
  write_file_atomic(path, nullptr, 0);
  REQUIRE(read_bytes(path).empty());
  REQUIRE_FALSE(fs::exists(path + ".tmp." + std::to_string(::getpid())));
}

TEST_CASE("write_file_atomic into a missing directory names the path and leaves nothing",
          "[core][formats]") {
  const fs::path dir = temp_dir() / "no_such_dir";
  const std::string path = (dir / "checkpoint.safetensors").string();
  const std::string text = "data";
  REQUIRE_THROWS_WITH(write_file_atomic(path, text.data(), text.size()),
                      Catch::Contains(path) && Catch::Contains("No such file or directory"));
  REQUIRE_FALSE(fs::exists(dir));
  REQUIRE_THROWS_WITH(save_safetensors(path, {{"w", random_of({2}, DType::f32, 50)}}),
                      Catch::Contains(path));
  for (const auto& entry : fs::directory_iterator(temp_dir()))
    REQUIRE(entry.path().filename().string().find("checkpoint") == std::string::npos);
}

TEST_CASE("write_file_atomic leaves the existing file when the write fails", "[core][formats]") {
  const std::string path = temp_file("survivor.bin");
  write_bytes(path, "old contents");
  // The temporary's name is taken by a directory: creating the temporary fails.
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  fs::create_directory(tmp);
  const std::string text = "new contents";
  REQUIRE_THROWS_WITH(write_file_atomic(path, text.data(), text.size()),
                      Catch::Contains(path) && Catch::Contains("temporary"));
  REQUIRE(read_bytes(path) == "old contents");
  REQUIRE(fs::is_directory(tmp));  // not ours: left alone
  fs::remove(tmp);
}

TEST_CASE("write_file_atomic removes its temporary when the rename fails", "[core][formats]") {
  // The target is a non-empty directory: rename cannot replace it.
  const std::string path = temp_file("target_dir");
  fs::create_directory(path);
  write_bytes(path + "/inside.txt", "kept");
  const std::string text = "data";
  REQUIRE_THROWS_WITH(write_file_atomic(path, text.data(), text.size()),
                      Catch::Contains(path) && Catch::Contains("rename"));
  REQUIRE_FALSE(fs::exists(path + ".tmp." + std::to_string(::getpid())));
  REQUIRE(read_bytes(path + "/inside.txt") == "kept");
}

TEST_CASE("read_file names the path it cannot open or read", "[core][formats]") {
  const std::string missing = temp_file("absent.bin");
  REQUIRE_THROWS_WITH(read_file(missing),
                      Catch::Contains(missing) && Catch::Contains("No such file or directory"));
  const std::string dir = temp_dir().string();
  REQUIRE_THROWS_WITH(read_file(dir), Catch::Contains(dir) && Catch::Contains("Is a directory"));
}
