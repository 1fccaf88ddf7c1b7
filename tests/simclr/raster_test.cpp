// The canvas drawing under the plot: anti-aliased strokes against the exact distance to random
// segments, and glyphs against their 5x7 bitmaps.
#include "simclr/raster.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

namespace simclr {

namespace {

constexpr Color kWhite{255, 255, 255}, kBlue{20, 60, 200};

bool is(const Canvas& canvas, int64_t x, int64_t y, Color c) {
  const Color p = canvas.at(x, y);
  return p.r == c.r && p.g == c.g && p.b == c.b;
}

double distance_to_segment(double px, double py, Point a, Point b) {
  const double dx = b.x - a.x, dy = b.y - a.y;
  const double t = std::clamp(((px - a.x) * dx + (py - a.y) * dy) / (dx * dx + dy * dy), 0.0, 1.0);
  return std::hypot(px - a.x - t * dx, py - a.y - t * dy);
}

}  // namespace

TEST_CASE("draw_polyline covers the pixels near the segments and nothing else",
          "[simclr][raster]") {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> coord(-5.0, 45.0);
  for (int trial = 0; trial < 20; ++trial) {
    Canvas canvas(41, 37, kWhite);
    const std::vector<Point> points = {
        {coord(rng), coord(rng)}, {coord(rng), coord(rng)}, {coord(rng), coord(rng)}};
    const double width = 1.0 + 3.0 * std::uniform_real_distribution<double>()(rng);
    draw_polyline(canvas, points, kBlue, width);
    for (int64_t y = 0; y < canvas.height(); ++y)
      for (int64_t x = 0; x < canvas.width(); ++x) {
        const double d = std::min(distance_to_segment(x + 0.5, y + 0.5, points[0], points[1]),
                                  distance_to_segment(x + 0.5, y + 0.5, points[1], points[2]));
        INFO("trial " << trial << " pixel " << x << "," << y << " distance " << d);
        if (d <= width / 2 - 0.5) CHECK(is(canvas, x, y, kBlue));
        if (d >= width / 2 + 0.5) CHECK(is(canvas, x, y, kWhite));
      }
  }
}

TEST_CASE("draw_text draws the 5x7 glyphs scaled", "[simclr][raster]") {
  Canvas canvas(40, 30, kWhite);
  draw_text(canvas, 3, 5, "1p", kBlue, 2);
  CHECK(text_width("1p", 2) == 22);
  CHECK(text_height(2) == 14);
  // '1' is ..#.. / .##.. / ..#.. x4 / .###.; 'p' hangs two rows below the baseline.
  const char* one[7] = {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."};
  for (int row = 0; row < 7; ++row)
    for (int col = 0; col < 5; ++col)
      for (int64_t dy = 0; dy < 2; ++dy)
        for (int64_t dx = 0; dx < 2; ++dx) {
          INFO("row " << row << " col " << col);
          CHECK(is(canvas, 3 + 2 * col + dx, 5 + 2 * row + dy,
                   one[row][col] == '#' ? kBlue : kWhite));
        }
  const int64_t baseline = 5 + text_height(2);
  CHECK(is(canvas, 3 + 12, baseline + 2, kBlue));    // the descender of 'p'
  CHECK(is(canvas, 3 + 12, 5 + 2 * 2 - 1, kWhite));  // nothing above its x-height
  for (int64_t x = 0; x < canvas.width(); ++x) CHECK(is(canvas, x, baseline + 4, kWhite));
}

}  // namespace simclr
