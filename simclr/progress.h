// The trainer's progress display: on a terminal, one status line redrawn in place; in a log file or
// a pipe (batch jobs, mpirun output), a plain line per update that reads well after the fact.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace simclr {

struct ProgressUpdate {
  int64_t epoch, epochs;                   // epoch is 0-based; shown as epoch + 1 of epochs
  int64_t step_in_epoch, steps_per_epoch;  // steps done in this epoch
  int64_t global_step, total_steps;        // steps done in the run
  double loss, lr, images_per_s, elapsed_s;
};

class Progress {
 public:
  // bar: a one-line bar redrawn in place with '\r' (epoch e/E, a [#####.....] bar of the epoch,
  // step, loss, lr, img/s, and the ETA of the whole run as h:mm:ss); lines: a plain log line per
  // update. auto_detect picks bar when `out` is a terminal.
  enum class Mode { auto_detect, bar, lines };
  explicit Progress(Mode mode = Mode::auto_detect, std::FILE* out = stdout);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void update(const ProgressUpdate& u);
  // Prints a line that must not be overwritten (epoch summaries, kNN accuracy, warnings): ends the
  // bar line first when one is drawn.
  void message(const std::string& line);
  void finish();  // ends a bar line; the destructor calls it too

  Mode mode() const { return mode_; }  // bar or lines, once auto_detect has picked

 private:
  double eta_seconds(const ProgressUpdate& u);

  Mode mode_;
  std::FILE* out_;
  bool bar_open_ = false;     // a bar line is drawn and not yet ended
  size_t bar_length_ = 0;     // of the last bar drawn, to blank what a shorter one leaves
  bool have_first_ = false;   // the first update seen, the origin of the ETA's rate: a resumed
  int64_t first_step_ = 0;    // run starts at a later step, and its elapsed time may or may not
  double first_elapsed_ = 0;  // count the time before the resume
};

// Whole seconds as h:mm:ss, rounded: 247 -> "0:04:07", 43200 -> "12:00:00". Negative, NaN or
// infinite -> "-:--:--".
std::string format_duration(double seconds);

}  // namespace simclr
