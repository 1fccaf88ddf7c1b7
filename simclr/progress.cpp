// Progress output. Every write is flushed: the bar must show at once, and log lines must reach a
// file before a crash. The ETA uses the rate since the first update this object saw, so a resumed
// run's ETA does not count steps it did not run.
#include "simclr/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace simclr {

namespace {

constexpr int kBarWidth = 24;

std::string printf_string(const char* format, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, format, args...);
  return buf;
}

std::string epoch_bar(const ProgressUpdate& u) {
  const double fraction =
      u.steps_per_epoch > 0
          ? std::clamp(static_cast<double>(u.step_in_epoch) / u.steps_per_epoch, 0.0, 1.0)
          : 0.0;
  std::string bar(kBarWidth + 2, '.');
  bar.front() = '[';
  bar.back() = ']';
  std::fill_n(bar.begin() + 1, static_cast<int>(fraction * kBarWidth), '#');
  return bar;
}

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "-:--:--";
  const auto total = static_cast<int64_t>(std::llround(seconds));
  return printf_string("%lld:%02lld:%02lld", static_cast<long long>(total / 3600),
                       static_cast<long long>(total / 60 % 60), static_cast<long long>(total % 60));
}

Progress::Progress(Mode mode, std::FILE* out) : mode_(mode), out_(out) {
  if (mode_ == Mode::auto_detect) mode_ = isatty(fileno(out_)) ? Mode::bar : Mode::lines;
}

Progress::~Progress() {
  finish();
}

double Progress::eta_seconds(const ProgressUpdate& u) {
  if (!have_first_) {
    have_first_ = true;
    first_step_ = u.global_step;
    first_elapsed_ = u.elapsed_s;
  }
  const int64_t left = std::max<int64_t>(0, u.total_steps - u.global_step);
  if (u.global_step > first_step_)
    return (u.elapsed_s - first_elapsed_) / static_cast<double>(u.global_step - first_step_) *
           static_cast<double>(left);
  // Until a second update, assume the run (and its clock) started at step 0.
  if (u.global_step > 0) return u.elapsed_s / static_cast<double>(u.global_step) * left;
  return NAN;
}

void Progress::update(const ProgressUpdate& u) {
  const std::string eta = format_duration(eta_seconds(u));
  if (mode_ == Mode::lines) {
    std::fprintf(out_,
                 "epoch %lld/%lld step %lld/%lld (%lld/%lld) loss %.4f lr %.4g %.1f img/s "
                 "elapsed %s ETA %s\n",
                 static_cast<long long>(u.epoch + 1), static_cast<long long>(u.epochs),
                 static_cast<long long>(u.step_in_epoch), static_cast<long long>(u.steps_per_epoch),
                 static_cast<long long>(u.global_step), static_cast<long long>(u.total_steps),
                 u.loss, u.lr, u.images_per_s, format_duration(u.elapsed_s).c_str(), eta.c_str());
  } else {
    std::string line = printf_string(
        "epoch %lld/%lld %s %lld/%lld loss %.4f lr %.4g %.0f img/s ETA %s",
        static_cast<long long>(u.epoch + 1), static_cast<long long>(u.epochs), epoch_bar(u).c_str(),
        static_cast<long long>(u.step_in_epoch), static_cast<long long>(u.steps_per_epoch), u.loss,
        u.lr, u.images_per_s, eta.c_str());
    const size_t length = line.size();
    if (length < bar_length_) line.append(bar_length_ - length, ' ');
    std::fprintf(out_, "\r%s", line.c_str());
    bar_length_ = length;
    bar_open_ = true;
  }
  std::fflush(out_);
}

void Progress::message(const std::string& line) {
  finish();
  std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
}

void Progress::finish() {
  if (!bar_open_) return;
  std::fputc('\n', out_);
  std::fflush(out_);
  bar_open_ = false;
  bar_length_ = 0;
}

}  // namespace simclr
