// The training-curve PNG, read back with libpng: frames, labels and curves where the layout puts
// them, curves going the way the data goes, the edge cases (no data, one point, constants), and
// errors that name the file and line.
#include "simclr/plot.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/error.h"
#include "simclr/png_test_util.h"

namespace simclr {

namespace {

std::string output_path(const std::string& name) {
  const std::string dir = std::string(SIMCLR_TEST_OUTPUT_DIR) + "/plot";
  std::filesystem::create_directories(dir);
  return dir + "/" + name;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Curves are drawn in color; frames, grid lines and text are gray.
bool colored(const test::PngImage& image, int64_t x, int64_t y) {
  const uint8_t* p = &image.pixels[static_cast<size_t>((y * image.width + x) * 3)];
  const int hi = std::max({p[0], p[1], p[2]}), lo = std::min({p[0], p[1], p[2]});
  return hi - lo > 40;
}

bool dark(const test::PngImage& image, int64_t x, int64_t y) {
  const uint8_t* p = &image.pixels[static_cast<size_t>((y * image.width + x) * 3)];
  return p[0] < 200 && p[1] < 200 && p[2] < 200;
}

struct Ink {
  int64_t count = 0;
  double mean_y = 0;
  int64_t min_y = 1 << 30, max_y = -1;
};

// Colored pixels in columns [x0, x1) and rows [y0, y1).
Ink colored_in(const test::PngImage& image, int64_t x0, int64_t y0, int64_t x1, int64_t y1) {
  Ink ink;
  for (int64_t y = y0; y < y1; ++y)
    for (int64_t x = x0; x < x1; ++x)
      if (colored(image, x, y)) {
        ++ink.count;
        ink.mean_y += static_cast<double>(y);
        ink.min_y = std::min(ink.min_y, y), ink.max_y = std::max(ink.max_y, y);
      }
  if (ink.count > 0) ink.mean_y /= static_cast<double>(ink.count);
  return ink;
}

int64_t dark_in(const test::PngImage& image, int64_t x0, int64_t y0, int64_t x1, int64_t y1) {
  int64_t n = 0;
  for (int64_t y = y0; y < y1; ++y)
    for (int64_t x = x0; x < x1; ++x) n += dark(image, x, y);
  return n;
}

// Plots `jsonl` over a poisoned output and reads the PNG back.
test::PngImage plot(const std::string& name, const std::string& jsonl) {
  const std::string in = output_path(name + ".jsonl"), out = output_path(name + ".png");
  write_text(in, jsonl);
  write_text(out, "poison");
  plot_training_curves(in, out);
  test::PngImage image = test::read_png(out, 3);
  REQUIRE(image.width == kPlotWidth);
  REQUIRE(image.height == kPlotHeight);
  return image;
}

// A run of `steps` logged steps: noisy falling loss, rising (warmup) learning rate, and a noisy
// rising kNN accuracy once per `per_epoch` steps, with events the plot ignores mixed in.
std::string synthetic_run(int steps, int per_epoch, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> noise(-0.15, 0.15);
  std::ostringstream out;
  out << R"({"event":"start","config":{"batch":256},"elapsed_s":0})"
      << "\n\n";
  for (int i = 1; i <= steps; ++i) {
    const int step = 7 * i + 3;
    out << R"({"event":"step","epoch":)" << i / per_epoch << R"(,"step":)" << step << R"(,"loss":)"
        << 6.1 - 2.7 * i / steps + noise(rng) << R"(,"lr":)" << 0.3 * i / steps + 0.01
        << R"(,"images_per_s":)" << 400 + 50 * noise(rng) << "}\n";
    if (i % per_epoch == 0)
      out << R"({"event":"epoch","epoch":)" << i / per_epoch - 1 << R"(,"step":)" << step
          << R"(,"loss":5.0,"knn_acc":)" << 0.31 + 0.05 * i / per_epoch + 0.1 * noise(rng) << "}\n";
    if (i % 50 == 0)
      out << R"({"note":"no event key"})"
          << "\n";
  }
  out << R"({"event":"end","elapsed_s":99.5})"
      << "\n";
  return out.str();
}

}  // namespace

TEST_CASE("plot_training_curves draws three framed panels whose curves follow the data",
          "[simclr][plot]") {
  const test::PngImage image = plot("run", synthetic_run(337, 37, 5));
  int64_t inside = 0;
  for (int panel = 0; panel < 3; ++panel) {
    INFO("panel " << panel);
    const PlotFrame f = plot_panel_frame(panel);
    const int64_t mid_y = (f.y0 + f.y1) / 2, quarter = (f.x1 - f.x0) / 4;
    CHECK(dark(image, f.x0, mid_y));
    CHECK(dark(image, f.x1 - 1, mid_y));
    CHECK(dark(image, (f.x0 + f.x1) / 2, f.y0));
    CHECK(dark_in(image, f.x0, 0, f.x1, f.y0) > 20);                // the title
    CHECK(dark_in(image, f.x0 - 80, f.y0, f.x0 - 6, f.y1) > 50);    // y tick labels
    CHECK(dark_in(image, f.x0, f.y1 + 6, f.x1, kPlotHeight) > 50);  // x ticks and name
    const Ink all = colored_in(image, f.x0 + 1, f.y0 + 1, f.x1 - 1, f.y1 - 1);
    CHECK(all.count > 200);
    inside += all.count;
    const Ink left = colored_in(image, f.x0 + 1, f.y0 + 1, f.x0 + quarter, f.y1 - 1);
    const Ink right = colored_in(image, f.x1 - quarter, f.y0 + 1, f.x1 - 1, f.y1 - 1);
    REQUIRE(left.count > 0);
    REQUIRE(right.count > 0);
    if (panel == 0) {
      CHECK(left.mean_y < right.mean_y - 50);  // loss falls: higher on the left
    } else {
      CHECK(left.mean_y > right.mean_y + 50);  // kNN and lr rise
    }
  }
  // Curves and dots stay inside their frames.
  CHECK(colored_in(image, 0, 0, kPlotWidth, kPlotHeight).count == inside);
}

TEST_CASE("plot_training_curves handles no data, one point and constant values", "[simclr][plot]") {
  SECTION("one step, no epoch") {
    const test::PngImage image =
        plot("single", R"({"event":"step","epoch":0,"step":20,"loss":5.83,"lr":0.12})"
                       "\n");
    for (int panel : {0, 2}) {
      const PlotFrame f = plot_panel_frame(panel);
      const Ink ink = colored_in(image, f.x0 + 1, f.y0 + 1, f.x1 - 1, f.y1 - 1);
      CHECK(ink.count > 20);
      CHECK(ink.max_y - ink.min_y < 12);  // a dot
      CHECK(std::abs(ink.mean_y - (f.y0 + f.y1) / 2.0) < 3);
    }
    const PlotFrame f = plot_panel_frame(1);
    CHECK(colored_in(image, f.x0, f.y0, f.x1, f.y1).count == 0);
    const int64_t mid_y = (f.y0 + f.y1) / 2;
    CHECK(dark_in(image, f.x0 + 1, mid_y - 10, f.x1 - 1, mid_y + 10) > 30);  // "no data"
    CHECK(dark(image, f.x0, mid_y));
  }
  SECTION("constant values") {
    std::ostringstream jsonl;
    for (int i = 0; i < 41; ++i)
      jsonl << R"({"event":"step","step":)" << 10 * i << R"(,"loss":4.25,"lr":0.1})"
            << "\n"
            << R"({"event":"epoch","epoch":)" << i << R"(,"knn_acc":0.5})"
            << "\n";
    const test::PngImage image = plot("constant", jsonl.str());
    for (int panel = 0; panel < 3; ++panel) {
      INFO("panel " << panel);
      const PlotFrame f = plot_panel_frame(panel);
      const Ink ink = colored_in(image, f.x0 + 1, f.y0 + 1, f.x1 - 1, f.y1 - 1);
      CHECK(ink.count > 200);
      CHECK(ink.max_y - ink.min_y < 12);  // a flat line (with dots on the kNN panel)
      CHECK(std::abs(ink.mean_y - (f.y0 + f.y1) / 2.0) < 3);
    }
  }
  SECTION("nothing to plot") {
    const test::PngImage image = plot("empty", R"({"event":"start"})"
                                               "\n");
    CHECK(colored_in(image, 0, 0, kPlotWidth, kPlotHeight).count == 0);
    for (int panel = 0; panel < 3; ++panel) {
      const PlotFrame f = plot_panel_frame(panel);
      CHECK(dark_in(image, f.x0 + 1, f.y0 + 1, f.x1 - 1, f.y1 - 1) > 30);
    }
  }
}

TEST_CASE("plot_training_curves names the file and line of bad input", "[simclr][plot]") {
  const std::string in = output_path("bad.jsonl"), out = output_path("bad.png");
  write_text(out, "poison");
  write_text(in, R"({"event":"step","step":1,"loss":5.0,"lr":0.1})"
                 "\n\n"
                 R"({"event":"step","step":2,"loss":4.9,"lr":0.1})"
                 "\n"
                 R"({"event":"step","step":3,"loss":)"
                 "\n");
  CHECK_THROWS_WITH(plot_training_curves(in, out), Catch::Contains(in) &&
                                                       Catch::Contains("line 4") &&
                                                       Catch::Contains("not valid JSON"));
  write_text(in, R"({"event":"step","step":1,"loss":5.0,"lr":0.1})"
                 "\n"
                 R"({"event":"step","step":2,"loss":"nan","lr":0.1})"
                 "\n");
  CHECK_THROWS_WITH(plot_training_curves(in, out),
                    Catch::Contains(in) && Catch::Contains("line 2") && Catch::Contains("loss"));
  write_text(in, "[1, 2]\n");
  CHECK_THROWS_WITH(plot_training_curves(in, out),
                    Catch::Contains("line 1") && Catch::Contains("expected an object"));
  CHECK_THROWS_WITH(plot_training_curves(output_path("missing.jsonl"), out),
                    Catch::Contains("missing.jsonl"));
  CHECK(read_text(out) == "poison");
}

}  // namespace simclr
