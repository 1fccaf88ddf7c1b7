// A small RGB canvas with the drawing the training-curve plot needs: rectangles, anti-aliased
// polylines and dots, and text in a built-in 5x7 bitmap font, so that plotting needs no font files
// or graphics library. Coordinates are pixels from the top-left; pixel (x, y) covers
// [x, x + 1) x [y, y + 1). Everything is clipped to the canvas.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace simclr {

struct Color {
  uint8_t r, g, b;
};

struct Point {
  double x, y;
};

class Canvas {
 public:
  Canvas(int64_t width, int64_t height, Color background);
  int64_t width() const { return width_; }
  int64_t height() const { return height_; }
  // RGB rows, top row first: the layout write_png takes with 3 channels.
  const std::vector<uint8_t>& pixels() const { return pixels_; }
  Color at(int64_t x, int64_t y) const;
  // Mixes `color` into pixel (x, y) with weight alpha in [0, 1].
  void blend(int64_t x, int64_t y, Color color, double alpha);
  // Fills [x0, x1) x [y0, y1).
  void fill_rect(int64_t x0, int64_t y0, int64_t x1, int64_t y1, Color color);

 private:
  int64_t width_, height_;
  std::vector<uint8_t> pixels_;
};

// A one-pixel outline just inside [x0, x1) x [y0, y1).
void stroke_rect(Canvas& canvas, int64_t x0, int64_t y0, int64_t x1, int64_t y1, Color color);

// Each pixel's coverage is taken from its distance to the nearest segment (the max over
// segments), so joints are not darkened by being drawn twice. One point draws a dot.
void draw_polyline(Canvas& canvas, const std::vector<Point>& points, Color color, double width);

void fill_circle(Canvas& canvas, Point center, double radius, Color color);

// Text in the 5x7 font, each glyph scaled `scale` times, with (x, y) its top-left corner and
// text_height below it the baseline (g, p, q and y reach 2 * scale pixels further). Letters,
// digits, space and . , : ; - + = _ / % ( ) [ ] # ? are drawn; other characters draw as '?'.
void draw_text(Canvas& canvas, int64_t x, int64_t y, const std::string& text, Color color,
               int scale);
int64_t text_width(const std::string& text, int scale);
int64_t text_height(int scale);

}  // namespace simclr
