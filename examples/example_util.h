// What the example programs share: the command line (a checkpoint or --raw, then key=value
// overrides) and the features of both splits, from the checkpoint's encoder or from raw pixels.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "core/cuda_device.h"
#include "simclr/evaluation.h"
#include "simclr/pretrained.h"

namespace simclr::examples {

struct Features {
  Config config;
  Tensor train, test;  // [n, d] f32
  Dataset train_data, test_data;
};

// argv: CHECKPOINT | --raw, then key=value overrides. With --raw the config is the CPU/GPU
// default with the overrides (data.* choose the data set) and the features are the pixels.
inline Features load_features(const std::vector<std::string>& args) {
  SIMCLR_CHECK(!args.empty(), "expected a checkpoint path (or --raw) as the first argument");
  const Device device = cuda_available() ? Device::cuda(0) : Device::cpu();
  const std::vector<std::string> overrides(args.begin() + 1, args.end());
  Features f;
  std::unique_ptr<SimCLRModel> model;
  if (args[0] == "--raw") {
    f.config = default_config(device);
    for (const std::string& o : overrides) apply_override(f.config, o);
    validate(f.config);
  } else {
    Pretrained p = load_pretrained(args[0], device, overrides);
    f.config = p.config;
    model = std::move(p.model);
  }
  SIMCLR_CHECK(has_test_split(f.config.data), "the data set has no test split (data.test_path)");
  f.train_data = load_dataset(f.config.data, Split::train);
  f.test_data = load_dataset(f.config.data, Split::test);
  if (!model) {
    f.train = pixel_features(f.train_data.images, device);
    f.test = pixel_features(f.test_data.images, device);
    return f;
  }
  const AugmentPolicy policy = resolve_policy(f.config, f.train_data);
  const DType dtype = resolve_dtype(f.config, device);
  const int64_t batch = f.config.eval.batch_size;
  f.train = extract_features(model->encoder(), f.train_data.images, policy, dtype, device, batch);
  f.test = extract_features(model->encoder(), f.test_data.images, policy, dtype, device, batch);
  return f;
}

// Runs body() with the arguments after argv[0]; an error prints one line and exits 1.
template <typename Body>
int run(int argc, char** argv, const char* usage, Body body) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fprintf(args.empty() ? stderr : stdout, "%s", usage);
    return args.empty() ? 2 : 0;
  }
  try {
    return body(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
    return 1;
  }
}

}  // namespace simclr::examples
