// Tests of the learning-rate schedule (simclr/schedule.h): the two batch scalings, the warm-up
// ramp, the peak, the cosine midpoint and end, the value after the end, and the config checks.
#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>

#include "simclr/schedule.h"

using simclr::learning_rate;
using simclr::peak_learning_rate;
using simclr::ScheduleConfig;

TEST_CASE("Schedule: the peak scales with the batch", "[simclr][schedule]") {
  ScheduleConfig c;
  c.batch_size = 4096;
  CHECK(peak_learning_rate(c) == Approx(0.3 * 16).epsilon(1e-12));  // linear: 0.3 * 4096 / 256
  c.scaling = "sqrt";
  c.base_lr = 0.075;
  CHECK(peak_learning_rate(c) == Approx(0.075 * 64).epsilon(1e-12));
  c.scaling = "none";
  CHECK(peak_learning_rate(c) == 0.075);
  c.scaling = "linear";
  c.batch_size = 100;
  CHECK(peak_learning_rate(c) == Approx(0.075 * 100 / 256).epsilon(1e-12));
}

TEST_CASE("Schedule: linear warm-up, then cosine decay to a fraction of the peak",
          "[simclr][schedule]") {
  ScheduleConfig c;
  c.base_lr = 0.5;
  c.batch_size = 512;  // peak 1.0
  c.warmup_steps = 10;
  c.total_steps = 110;
  c.final_lr_fraction = 0.1;
  const double peak = 1.0, final_lr = 0.1;
  CHECK(learning_rate(c, 0) == Approx(peak / 10).epsilon(1e-12));
  CHECK(learning_rate(c, 4) == Approx(peak * 5 / 10).epsilon(1e-12));
  CHECK(learning_rate(c, 9) == Approx(peak).epsilon(1e-12));
  CHECK(learning_rate(c, 10) == Approx(peak).epsilon(1e-12));
  CHECK(learning_rate(c, 60) == Approx((peak + final_lr) / 2).epsilon(1e-12));  // midpoint
  const double quarter = final_lr + (peak - final_lr) * 0.5 * (1 + std::cos(std::numbers::pi / 4));
  CHECK(learning_rate(c, 35) == Approx(quarter).epsilon(1e-12));
  CHECK(learning_rate(c, 109) > final_lr);
  CHECK(learning_rate(c, 109) < final_lr + 1e-3);
  CHECK(learning_rate(c, 110) == Approx(final_lr).epsilon(1e-12));
  CHECK(learning_rate(c, 5000) == Approx(final_lr).epsilon(1e-12));
  for (int64_t s = 11; s < 110; ++s) CHECK(learning_rate(c, s) < learning_rate(c, s - 1));

  c.warmup_steps = 0;
  c.final_lr_fraction = 0.0;
  CHECK(learning_rate(c, 0) == Approx(peak).epsilon(1e-12));
  CHECK(learning_rate(c, 55) == Approx(peak / 2).epsilon(1e-12));
  CHECK(learning_rate(c, 110) == 0.0);
}

TEST_CASE("Schedule: the config is checked", "[simclr][schedule]") {
  ScheduleConfig c;
  c.scaling = "log";
  CHECK_THROWS_WITH(peak_learning_rate(c), Catch::Contains("unknown scaling 'log'"));
  c = {};
  c.warmup_steps = 5;
  c.total_steps = 4;
  CHECK_THROWS_WITH(learning_rate(c, 0), Catch::Contains("warmup_steps <= total_steps"));
  c = {};
  c.base_lr = -0.1;
  CHECK_THROWS_WITH(peak_learning_rate(c), Catch::Contains("base_lr"));
  c = {};
  c.batch_size = 0;
  CHECK_THROWS_WITH(peak_learning_rate(c), Catch::Contains("batch_size"));
  c = {};
  c.total_steps = 0;
  CHECK_THROWS_WITH(peak_learning_rate(c), Catch::Contains("total_steps"));
  c = {};
  c.final_lr_fraction = 1.5;
  CHECK_THROWS_WITH(peak_learning_rate(c), Catch::Contains("final_lr_fraction"));
  c = {};
  CHECK_THROWS_WITH(learning_rate(c, -1), Catch::Contains("step >= 0"));
}
