// write_png: what libpng reads back is what was written, and bad sizes fail without touching the
// file already there.
#include "simclr/image_write.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.h"
#include "simclr/png_test_util.h"

namespace simclr {

namespace {

std::string output_path(const std::string& name) {
  const std::string dir = std::string(SIMCLR_TEST_OUTPUT_DIR) + "/image_write";
  std::filesystem::create_directories(dir);
  return dir + "/" + name;
}

void poison(const std::string& path) {
  std::ofstream(path) << "not a png";
}

}  // namespace

TEST_CASE("write_png round-trips gray and RGB images of odd sizes", "[simclr][png]") {
  std::mt19937 rng(17);
  for (int64_t channels : {1, 3}) {
    const int64_t height = 37, width = 53;
    std::vector<uint8_t> pixels(static_cast<size_t>(height * width * channels));
    for (auto& p : pixels) p = static_cast<uint8_t>(rng());
    const std::string path = output_path("random_" + std::to_string(channels) + ".png");
    poison(path);
    write_png(path, pixels.data(), height, width, channels);
    const test::PngImage back = test::read_png(path, static_cast<int>(channels));
    CHECK(back.width == width);
    CHECK(back.height == height);
    CHECK(back.pixels == pixels);
    for (const auto& entry : std::filesystem::directory_iterator(output_path("")))
      CHECK(entry.path().string().find(".tmp") == std::string::npos);  // no temporary left
  }
}

TEST_CASE("write_png rejects bad sizes and names the file", "[simclr][png]") {
  const std::vector<uint8_t> pixels(64, 7);
  const std::string path = output_path("bad.png");
  poison(path);
  CHECK_THROWS_WITH(write_png(path, pixels.data(), 4, 4, 2),
                    Catch::Contains(path) && Catch::Contains("2 channels"));
  CHECK_THROWS_WITH(write_png(path, pixels.data(), 4, 0, 1),
                    Catch::Contains(path) && Catch::Contains("4 x 0"));
  CHECK_THROWS_WITH(write_png(path, nullptr, 4, 4, 1), Catch::Contains(path));
  CHECK_THROWS_AS(write_png("/nonexistent-dir/x.png", pixels.data(), 4, 4, 1), Error);
  // The file that was there is untouched.
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  CHECK(text == "not a png");
}

}  // namespace simclr
