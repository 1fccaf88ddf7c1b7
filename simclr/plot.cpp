// The training-curve plot: JSONL metrics -> three series -> axes with round-number ticks -> a
// canvas (simclr/raster.h) -> PNG. The loss is noisy step to step, so with many points it is
// drawn faint with a moving average on top; the kNN accuracy (one point per epoch) gets dots.
#include "simclr/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "core/error.h"
#include "core/file_io.h"
#include "simclr/image_write.h"
#include "simclr/raster.h"

namespace simclr {

namespace {

using nlohmann::json;

using Series = std::vector<Point>;  // in data coordinates, sorted by x

struct Metrics {
  Series loss, knn, lr;
};

constexpr int kScale = 2;  // font scale
constexpr int64_t kPanelWidth = kPlotWidth / 3;
constexpr Color kWhite{255, 255, 255}, kInk{40, 40, 40}, kFrame{90, 90, 90}, kGrid{232, 232, 232},
    kMuted{150, 150, 150};

// A plotted value: absent or null -> nullopt; anything but a number -> an error naming the line.
std::optional<double> number_at(const json& object, const char* key, const std::string& path,
                                size_t line) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  SIMCLR_CHECK(it->is_number(), path, ": line ", line, ": \"", key, "\" is ", it->type_name(),
               "; expected a number");
  return it->get<double>();
}

void add_line(Metrics& m, const json& object, const std::string& path, size_t line) {
  const auto event = object.find("event");
  if (event == object.end() || !event->is_string()) return;
  if (*event == "step") {
    const auto step = number_at(object, "step", path, line);
    if (!step) return;
    if (const auto loss = number_at(object, "loss", path, line)) m.loss.push_back({*step, *loss});
    if (const auto lr = number_at(object, "lr", path, line)) m.lr.push_back({*step, *lr});
  } else if (*event == "epoch") {
    const auto epoch = number_at(object, "epoch", path, line);
    const auto knn = number_at(object, "knn_acc", path, line);
    if (epoch && knn) m.knn.push_back({*epoch, *knn});
  }
}

Metrics read_metrics(const std::string& path) {
  const std::vector<char> bytes = read_file(path);
  Metrics m;
  size_t line = 0;
  for (auto begin = bytes.begin(); begin != bytes.end();) {
    const auto end = std::find(begin, bytes.end(), '\n');
    ++line;
    const std::string text(begin, end);
    begin = end == bytes.end() ? end : end + 1;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    const json object = json::parse(text, nullptr, /*allow_exceptions=*/false);
    SIMCLR_CHECK(!object.is_discarded(), path, ": line ", line, ": not valid JSON");
    SIMCLR_CHECK(object.is_object(), path, ": line ", line, ": a JSON ", object.type_name(),
                 "; expected an object");
    add_line(m, object, path, line);
  }
  for (Series* s : {&m.loss, &m.knn, &m.lr})
    std::stable_sort(s->begin(), s->end(),
                     [](const Point& a, const Point& b) { return a.x < b.x; });
  return m;
}

struct Axis {
  double lo, hi;
  double step;  // between ticks
  std::vector<double> ticks;
};

// Ticks at multiples of `step`, from first * step to last * step.
struct Ticks {
  double step, first, last;
  double count() const { return last - first + 1; }
};

// One candidate per step of 1, 2, 2.5 or 5 times a power of ten near the range: the ticks inside
// [lo, hi], or with `cover` the fewest that reach over both ends (from 0 for nonnegative data).
// `integer` axes (steps, epochs) only take whole steps.
std::vector<Ticks> candidates(double lo, double hi, bool integer, bool nonnegative, bool cover) {
  constexpr double kSlack = 1e-9;  // ticks on the ends survive rounding
  std::vector<Ticks> out;
  const int top = static_cast<int>(std::floor(std::log10(hi - lo)));
  for (int e = top + 1; e >= top - 2; --e)
    for (double m : {5.0, 2.5, 2.0, 1.0}) {
      const double step = m * std::pow(10.0, e);
      if (integer && (step < 1 || step != std::round(step))) continue;
      if (cover)
        out.push_back({step, std::floor((nonnegative ? std::max(lo, 0.0) : lo) / step),
                       std::ceil(hi / step)});
      else
        out.push_back({step, std::ceil(lo / step - kSlack), std::floor(hi / step + kSlack)});
    }
  return out;
}

// Round-number ticks: 4 to 6 inside [lo, hi] when some step gives that, else ticks that cover it
// and become the axis ends. Either way the count closest to 5 wins, then the ticks whose span is
// closest to the range's.
Axis make_axis(double lo, double hi, bool integer, bool nonnegative) {
  const auto better = [&](const Ticks& a, const Ticks& b) {
    const double da = std::abs(a.count() - 5), db = std::abs(b.count() - 5);
    if (da != db) return da < db;
    return std::abs((a.last - a.first) * a.step - (hi - lo)) <
           std::abs((b.last - b.first) * b.step - (hi - lo));
  };
  std::optional<Ticks> best;
  for (const Ticks& t : candidates(lo, hi, integer, nonnegative, false))
    if (t.count() >= 4 && t.count() <= 6 && (!best || better(t, *best))) best = t;
  Axis axis{lo, hi, 0, {}};
  if (!best) {
    for (const Ticks& t : candidates(lo, hi, integer, nonnegative, true))
      if (!best || better(t, *best)) best = t;
    axis.lo = std::min(lo, best->first * best->step);
    axis.hi = std::max(hi, best->last * best->step);
  }
  axis.step = best->step;
  for (double i = best->first; i <= best->last; ++i) axis.ticks.push_back(i * best->step);
  return axis;
}

// The data's range with a margin, so that curves clear the frame. A constant is padded by 10% of
// its size (1 for zero), or by 2 on integer axes, where a padding that would reach below zero from
// a value that is not is moved above it. Nonnegative data gets no negative ticks (no epoch -1).
Axis fit_axis(const std::vector<Point>& points, bool along_x, bool integer) {
  double lo = INFINITY, hi = -INFINITY;
  for (const Point& p : points) {
    const double v = along_x ? p.x : p.y;
    lo = std::min(lo, v), hi = std::max(hi, v);
  }
  const bool nonnegative = lo >= 0;
  const double span = hi - lo;
  if (span > 1e-9 * std::max(std::abs(lo), std::abs(hi))) {
    lo -= 0.04 * span, hi += 0.04 * span;
  } else if (integer) {
    const double shift = lo >= 0 ? std::max(0.0, 2 - lo) : 0.0;
    lo += shift - 2, hi += shift + 2;
  } else {
    const double pad = lo == 0 ? 1.0 : 0.1 * std::abs(lo);
    lo -= pad, hi += pad;
  }
  return make_axis(lo, hi, integer, nonnegative);
}

// Enough digits to tell neighbouring ticks apart: thousands as "k", tiny values in e-notation.
std::string format_tick(double v, double step) {
  if (std::abs(v) < step * 1e-6) v = 0;  // no "-0.0" or "1e-17" from rounding
  if (std::abs(v) >= 1e4 && step >= 1000) return format_tick(v / 1000, step / 1000) + "k";
  char buf[32];
  const double exponent = std::floor(std::log10(step) + 1e-9);
  const bool half = std::abs(step / std::pow(10.0, exponent) - 2.5) < 1e-6;
  const int decimals = std::max(0, static_cast<int>(-exponent) + (half ? 1 : 0));
  if (decimals <= 4) {
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
  }
  if (v == 0) return "0";
  const int digits = static_cast<int>(std::floor(std::log10(std::abs(v))) - exponent) + 1;
  std::snprintf(buf, sizeof buf, "%.*g", std::max(1, digits + (half ? 1 : 0)), v);
  std::string text = buf;
  for (const char* padded : {"e-0", "e+0"}) {
    const auto at = text.find(padded);
    if (at != std::string::npos) text.erase(at + 2, 1);
  }
  return text;
}

// Data to pixel coordinates: the axis ends sit on the middle of the frame's lines.
struct View {
  PlotFrame frame;
  Axis x, y;
  Point to_pixel(Point p) const {
    return {frame.x0 + 0.5 + (p.x - x.lo) / (x.hi - x.lo) * (frame.x1 - frame.x0 - 1),
            frame.y1 - 0.5 - (p.y - y.lo) / (y.hi - y.lo) * (frame.y1 - frame.y0 - 1)};
  }
  std::vector<Point> to_pixels(const std::vector<Point>& points) const {
    std::vector<Point> out;
    for (const Point& p : points) out.push_back(to_pixel(p));
    return out;
  }
};

void draw_ticks(Canvas& canvas, const View& view) {
  const PlotFrame& f = view.frame;
  for (double t : view.x.ticks) {
    const auto c = static_cast<int64_t>(std::floor(view.to_pixel({t, view.y.lo}).x));
    canvas.fill_rect(c, f.y0 + 1, c + 1, f.y1 - 1, kGrid);
    canvas.fill_rect(c, f.y1, c + 1, f.y1 + 5, kFrame);
    const std::string label = format_tick(t, view.x.step);
    const int64_t w = text_width(label, kScale);
    draw_text(canvas, std::min(c - w / 2, canvas.width() - w), f.y1 + 10, label, kInk, kScale);
  }
  for (double t : view.y.ticks) {
    const auto r = static_cast<int64_t>(std::floor(view.to_pixel({view.x.lo, t}).y));
    canvas.fill_rect(f.x0 + 1, r, f.x1 - 1, r + 1, kGrid);
    canvas.fill_rect(f.x0 - 5, r, f.x0, r + 1, kFrame);
    const std::string label = format_tick(t, view.y.step);
    draw_text(canvas, f.x0 - 9 - text_width(label, kScale), r - text_height(kScale) / 2, label,
              kInk, kScale);
  }
}

// A centered moving average over about 1/40 of the points.
std::vector<Point> smoothed(const std::vector<Point>& points) {
  const size_t n = points.size(), half = std::max<size_t>(1, n / 80);
  std::vector<double> prefix(n + 1, 0.0);
  for (size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + points[i].y;
  std::vector<Point> out(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t lo = i >= half ? i - half : 0, hi = std::min(n, i + half + 1);
    out[i] = {points[i].x, (prefix[hi] - prefix[lo]) / static_cast<double>(hi - lo)};
  }
  return out;
}

Color lighter(Color c, double toward_white) {
  auto mix = [&](uint8_t v) {
    return static_cast<uint8_t>(std::lround(v + toward_white * (255 - v)));
  };
  return {mix(c.r), mix(c.g), mix(c.b)};
}

struct PanelSpec {
  const char* title;
  const char* x_name;
  Color color;
  bool integer_x;
  bool dots;    // a point per value (few, meaningful values)
  bool smooth;  // faint raw curve under a moving average (many, noisy values)
};

void draw_curve(Canvas& canvas, const View& view, const PanelSpec& spec, const Series& series) {
  constexpr size_t kSmoothFrom = 60;
  const bool dots = spec.dots || series.size() == 1;
  if (spec.smooth && series.size() >= kSmoothFrom) {
    draw_polyline(canvas, view.to_pixels(series), lighter(spec.color, 0.6), 1.2);
    draw_polyline(canvas, view.to_pixels(smoothed(series)), spec.color, 2.2);
  } else {
    draw_polyline(canvas, view.to_pixels(series), spec.color, 2.0);
  }
  if (!dots) return;
  // Dots shrink as they crowd, down to the line's own width.
  const double spacing =
      static_cast<double>(view.frame.x1 - view.frame.x0) / static_cast<double>(series.size());
  const double radius = std::clamp(0.3 * spacing, 1.5, 4.0);
  for (const Point& p : view.to_pixels(series)) fill_circle(canvas, p, radius, spec.color);
}

void draw_panel(Canvas& canvas, int panel, const PanelSpec& spec, const Series& series) {
  const PlotFrame f = plot_panel_frame(panel);
  const int64_t mid = (f.x0 + f.x1) / 2, th = text_height(kScale);
  draw_text(canvas, mid - text_width(spec.title, kScale) / 2, 14, spec.title, kInk, kScale);
  draw_text(canvas, mid - text_width(spec.x_name, kScale) / 2, f.y1 + 36, spec.x_name, kMuted,
            kScale);
  if (series.empty()) {
    stroke_rect(canvas, f.x0, f.y0, f.x1, f.y1, kFrame);
    const std::string text = "no data";
    draw_text(canvas, mid - text_width(text, kScale) / 2, (f.y0 + f.y1 - th) / 2, text, kMuted,
              kScale);
    return;
  }
  const View view{f, fit_axis(series, true, spec.integer_x), fit_axis(series, false, false)};
  draw_ticks(canvas, view);
  stroke_rect(canvas, f.x0, f.y0, f.x1, f.y1, kFrame);
  draw_curve(canvas, view, spec, series);
}

}  // namespace

PlotFrame plot_panel_frame(int panel) {
  SIMCLR_CHECK(panel >= 0 && panel < 3, "plot_panel_frame(", panel, "): panels are 0, 1 and 2");
  const int64_t left = panel * kPanelWidth;
  return {left + 88, 44, left + kPanelWidth - 16, kPlotHeight - 72};
}

void plot_training_curves(const std::string& jsonl_path, const std::string& png_path) {
  const Metrics m = read_metrics(jsonl_path);
  Canvas canvas(kPlotWidth, kPlotHeight, kWhite);
  draw_panel(canvas, 0, {"loss", "step", {31, 119, 180}, true, false, true}, m.loss);
  draw_panel(canvas, 1, {"kNN top-1", "epoch", {214, 96, 20}, true, true, false}, m.knn);
  draw_panel(canvas, 2, {"learning rate", "step", {44, 150, 44}, true, false, false}, m.lr);
  write_png(png_path, canvas.pixels().data(), canvas.height(), canvas.width(), 3);
}

}  // namespace simclr
