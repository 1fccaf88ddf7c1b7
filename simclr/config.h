// The configuration of a SimCLR run: one struct whose every field has a dotted key
// ("train.batch_size"), a default and a line of documentation, all listed once in visit_config
// (simclr/config.cpp). Readers and writers walk that list: the JSON file reader (unknown keys and
// wrong types are errors naming the key's path and the file), command-line overrides of single keys
// (key=value), the effective config written beside a run's outputs, and docs/config.md.
//
// Defaults depend on the device, as the issue asks of the default run: on a GPU a full ResNet-18
// trained long enough to be useful, on a CPU a narrower encoder and about ten minutes of training
// on two cores. default_config(device) gives them; a file and overrides then change single keys.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/device.h"
#include "kernels/augment_params.h"
#include "simclr/optimizer.h"

namespace simclr {

struct DataConfig {
  std::string dataset = "fashion-mnist";  // fashion-mnist | cifar10 | cifar100 | folder
  std::string path = "/usr/share/datasets/fashion-mnist";
  std::string test_path;    // folder: the test split's root (empty: no test split)
  int64_t image_size = 32;  // folder: images are resized and center-cropped to this
  int64_t channels = 3;     // folder: 1 or 3
  int threads = 0;          // folder: decoding threads (0: all cores)
  bool on_device = true;    // keep the uint8 training set on the GPU (CUDA runs)
};

struct ModelConfig {
  int depth = 18;
  int64_t width = 64;
  bool small_stem = true;
  bool zero_init_residual = false;
  int head_layers = 2;
  int64_t head_hidden = 0;
  int64_t out_dim = 128;
};

struct TrainConfig {
  std::string device = "auto";  // auto | cpu | cuda
  std::string dtype = "auto";   // auto (bf16 on CUDA, f32 on CPU) | f32 | bf16
  int64_t batch_size = 512;     // the global batch: samples (two views each) over all ranks
  int64_t epochs = 100;
  double time_budget_s = 0;  // > 0: stop (with a checkpoint) once training has run this long
  int64_t max_steps = 0;     // > 0: stop after this many steps (short test runs)
  double temperature = 0.5;
  uint64_t seed = 0;
  bool deterministic = false;
  int64_t log_every = 20;
};

struct ScheduleKeys {
  double lr = 0.3;
  std::string lr_scaling = "linear";  // linear | sqrt | none
  double warmup_epochs = 10;
  double final_lr_fraction = 0;
};

struct EvalConfig {
  bool knn_every_epoch = true;
  int64_t knn_k = 200;
  double knn_temperature = 0.1;
  bool linear_probe = true;
  int64_t probe_epochs = 30;
  double probe_lr = 1e-3;
  int64_t probe_batch_size = 512;
  int64_t batch_size = 1000;  // feature extraction
};

struct OutputConfig {
  std::string dir = "runs/simclr";
  bool checkpoint_every_epoch = true;
  bool plot = true;
};

struct DistConfig {
  double bucket_mb = 25;
  bool sync_bn = false;
};

struct Config {
  DataConfig data;
  ModelConfig model;
  AugmentPolicy augment;  // augment.size sets out_h and out_w (0: the data set's image size)
  TrainConfig train;
  OptimizerConfig optimizer;
  ScheduleKeys schedule;
  EvalConfig eval;
  OutputConfig output;
  DistConfig dist;
};

// The device that "auto" resolves to: CUDA when a GPU is usable, otherwise the CPU.
Device resolve_device(const std::string& device);

// The defaults for runs on `device` (the CPU's and the GPU's default runs differ).
Config default_config(Device device);

// Applies a JSON object to `config`: every key must be known and of the right type, or an Error
// names `source`, the key's path and what was expected.
void apply_json(Config& config, const nlohmann::json& json, const std::string& source);
// Reads a JSON config file and applies it.
void apply_file(Config& config, const std::string& path);
// One override "key=value": the value is JSON ("512", "true", "[0.5,0.5,0.5]") or, for a string
// key, plain text ("cifar10").
void apply_override(Config& config, const std::string& assignment);

// Throws an Error naming the key of the first value out of range (after all sources applied).
void validate(const Config& config);

nlohmann::json to_json(const Config& config);

// Every key with its documentation and its CPU and GPU defaults, in order (docs/config.md).
struct ConfigKeyDoc {
  std::string key, doc, cpu_default, gpu_default;
};
std::vector<ConfigKeyDoc> config_docs();

// The whole start-up: defaults for the device that train.device names (in the file or the
// overrides; "auto" otherwise), then the file (when not empty), then the overrides in order, then
// validate. `device` receives the resolved device.
Config load_config(const std::string& file, const std::vector<std::string>& overrides,
                   Device* device);

}  // namespace simclr
