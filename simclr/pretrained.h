// What the trainer and the example programs share: the data set and the model a config describes,
// and a trained model restored from a checkpoint that simclr_train wrote (its config travels in the
// checkpoint's metadata).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "simclr/config.h"
#include "simclr/dataset.h"
#include "simclr/model.h"

namespace simclr {

// The split of the data set that data.* names; for a folder data set the test split is
// data.test_path (has_test_split says whether there is one).
Dataset load_dataset(const DataConfig& data, Split split);
bool has_test_split(const DataConfig& data);

// The augmentation policy with its output size resolved (augment.size 0: the data set's size).
AugmentPolicy resolve_policy(const Config& config, const Dataset& data);

// The compute dtype train.dtype names on `device`.
DType resolve_dtype(const Config& config, Device device);

// The SimCLR model of model.* for images of `in_channels`, initialized from train.seed.
std::unique_ptr<SimCLRModel> build_model(const Config& config, int64_t in_channels);

struct Pretrained {
  Config config;
  std::unique_ptr<SimCLRModel> model;  // on the requested device, in eval mode
  int64_t step = 0;
};

// Reads a simclr_train checkpoint (its config, then its weights, strictly) onto `device`. The
// overrides ("data.path=...", "eval.knn_k=...") apply to the checkpoint's config afterwards; they
// may change where data comes from and how it is evaluated, not the model.
Pretrained load_pretrained(const std::string& checkpoint, Device device,
                           const std::vector<std::string>& overrides);

}  // namespace simclr
