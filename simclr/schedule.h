// The learning-rate schedule of SimCLR: the peak rate scaled with the global batch (the paper's
// 0.3 * batch / 256, or 0.075 * sqrt(batch)), a linear warm-up from zero, then a cosine decay to a
// fraction of the peak at total_steps (and that value after it).
#pragma once

#include <cstdint>
#include <string>

namespace simclr {

struct ScheduleConfig {
  double base_lr = 0.3;            // before scaling
  std::string scaling = "linear";  // "linear": base_lr * batch/256; "sqrt": base_lr * sqrt(batch);
                                   // "none": base_lr (SimCLR paper: 0.3 linear, 0.075 sqrt)
  int64_t batch_size = 256;        // the global batch
  int64_t warmup_steps = 0;        // linear warm-up from 0 (lr at step s is peak*(s+1)/warmup)
  int64_t total_steps = 1;         // then cosine decay to final_lr_fraction*peak at total_steps
  double final_lr_fraction = 0.0;
};

// Both check the config and raise a clear error for an unknown scaling or an out-of-range value.
double peak_learning_rate(const ScheduleConfig& config);
// step s is 0-based: peak * (s + 1) / warmup for s < warmup_steps, then final + (peak - final) *
// (1 + cos(pi * (s - warmup) / (total - warmup))) / 2 with final = final_lr_fraction * peak, and
// final from total_steps on.
double learning_rate(const ScheduleConfig& config, int64_t step);

}  // namespace simclr
