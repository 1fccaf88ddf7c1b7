// The learning-rate schedule (simclr/schedule.h): batch scaling, linear warm-up, cosine decay.
#include "simclr/schedule.h"

#include <cmath>
#include <numbers>

#include "core/error.h"

namespace simclr {

namespace {

void check(const ScheduleConfig& c) {
  SIMCLR_CHECK(c.scaling == "linear" || c.scaling == "sqrt" || c.scaling == "none",
               "schedule: unknown scaling '", c.scaling, "'; expected linear, sqrt or none");
  SIMCLR_CHECK(std::isfinite(c.base_lr) && c.base_lr >= 0,
               "schedule: expected a finite base_lr >= 0, got ", c.base_lr);
  SIMCLR_CHECK(c.batch_size >= 1, "schedule: expected batch_size >= 1, got ", c.batch_size);
  SIMCLR_CHECK(c.total_steps >= 1, "schedule: expected total_steps >= 1, got ", c.total_steps);
  SIMCLR_CHECK(c.warmup_steps >= 0 && c.warmup_steps <= c.total_steps,
               "schedule: expected 0 <= warmup_steps <= total_steps (", c.total_steps, "), got ",
               c.warmup_steps);
  SIMCLR_CHECK(c.final_lr_fraction >= 0 && c.final_lr_fraction <= 1,
               "schedule: expected final_lr_fraction in [0, 1], got ", c.final_lr_fraction);
}

double scaled_peak(const ScheduleConfig& c) {
  const auto batch = static_cast<double>(c.batch_size);
  if (c.scaling == "linear") return c.base_lr * batch / 256.0;
  if (c.scaling == "sqrt") return c.base_lr * std::sqrt(batch);
  return c.base_lr;
}

}  // namespace

double peak_learning_rate(const ScheduleConfig& config) {
  check(config);
  return scaled_peak(config);
}

double learning_rate(const ScheduleConfig& config, int64_t step) {
  check(config);
  SIMCLR_CHECK(step >= 0, "schedule: expected a step >= 0, got ", step);
  const double peak = scaled_peak(config);
  const double final_lr = config.final_lr_fraction * peak;
  if (step < config.warmup_steps)
    return peak * static_cast<double>(step + 1) / static_cast<double>(config.warmup_steps);
  if (step >= config.total_steps) return final_lr;
  const auto progress = static_cast<double>(step - config.warmup_steps) /
                        static_cast<double>(config.total_steps - config.warmup_steps);
  return final_lr + (peak - final_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

}  // namespace simclr
