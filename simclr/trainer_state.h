// The trainer's state, shared by its two source files: trainer.cpp (set-up and the training loop)
// and trainer_io.cpp (checkpoints, resume, metrics, evaluation and the final report). Private to
// simclr/.
#pragma once

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dist/grad_bucketer.h"
#include "dist/sampler.h"
#include "simclr/dataset.h"
#include "simclr/model.h"
#include "simclr/optimizer.h"
#include "simclr/progress.h"
#include "simclr/schedule.h"
#include "simclr/trainer.h"

namespace simclr {

struct Trainer::State {
  Config config;
  Device device;
  DType dtype = DType::f32;
  ProcessGroup& group;
  bool leader = true;  // rank 0: writes files, evaluates, prints

  Dataset train;
  std::optional<Dataset> test;
  Tensor train_images;  // on the device when data.on_device allows, else the CPU copy
  AugmentPolicy policy;

  std::unique_ptr<SimCLRModel> model;
  std::unique_ptr<Optimizer> optimizer;
  std::unique_ptr<GradBucketer> bucketer;
  ScheduleConfig schedule;
  std::unique_ptr<DistributedSampler> sampler;
  int64_t local_batch = 0;
  int64_t steps_per_epoch = 0;
  int64_t total_steps = 0;

  int64_t step = 0;  // global steps done
  // Each step's loss is copied into this device buffer, read back every log_every steps (one host
  // wait per window), checked for NaN/Inf and appended to `losses`.
  Tensor loss_window;
  int64_t window_fill = 0;
  std::vector<float> losses;
  int64_t last_good_checkpoint_step = -1;

  // The encoder's features at feature_step (the last kNN monitor), reused by the final evaluation.
  Tensor train_features, test_features;
  int64_t feature_step = -1;  // the same on every rank; the features live on the leader
  double last_knn = -1;

  std::unique_ptr<Progress> progress;
  std::FILE* metrics = nullptr;
  std::chrono::steady_clock::time_point start;
  std::chrono::steady_clock::time_point window_start;
  int64_t window_start_step = 0;
  int64_t steps_this_process = 0;

  State(const Config& c, Device d, ProcessGroup& g) : config(c), device(d), group(g) {}
  ~State();

  std::string path(const std::string& name) const;  // inside output.dir
  double elapsed_s() const;
  void print(const std::string& line);             // leader only: through the progress display
  void write_metrics(const nlohmann::json& line);  // leader only

  // trainer_io.cpp
  std::string rng_state() const;         // for the checkpoint's metadata
  void save(const std::string& reason);  // checkpoint.safetensors + encoder.safetensors
  void restore();                        // from output.dir/checkpoint.safetensors
  double knn_monitor();                  // leader: kNN accuracy of the current encoder
  void final_evaluation(TrainSummary& summary);
};

}  // namespace simclr
