// Training curves as a PNG a person can open while a run goes on or after it: three panels side by
// side (training loss vs step, kNN top-1 accuracy vs epoch, learning rate vs step), read from the
// metrics JSONL the trainer writes.
#pragma once

#include <cstdint>
#include <string>

namespace simclr {

// Reads `jsonl_path`, one JSON object per line:
//   {"event":"step","epoch":1,"step":20,"loss":5.83,"lr":0.12,...}  -> loss and lr at "step"
//   {"event":"epoch","epoch":1,"knn_acc":0.712,...}                  -> kNN top-1 at "epoch"
// Other events, lines without "event", and missing or null values are skipped; points are drawn
// in order of x. Writes a kPlotWidth x kPlotHeight RGB PNG to `png_path` (atomically). A panel
// without points says "no data". Throws naming the file and line for a line that is not a JSON
// object or a plotted value that is not a number, and naming the file when it cannot be read.
void plot_training_curves(const std::string& jsonl_path, const std::string& png_path);

inline constexpr int64_t kPlotWidth = 1200, kPlotHeight = 400;

// Panel `panel` (0 loss, 1 kNN, 2 learning rate) draws its axes box, a one-pixel frame, on
// [x0, x1) x [y0, y1); its curve stays inside.
struct PlotFrame {
  int64_t x0, y0, x1, y1;
};
PlotFrame plot_panel_frame(int panel);

}  // namespace simclr
