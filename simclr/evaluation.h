// Evaluation of an encoder on frozen features, the protocols SimCLR papers report:
//   - kNN (Wu et al. 2018, as in the SimCLR/MoCo monitors): cosine similarity of L2-normalized
//     features, the k nearest training images vote for their class with weight exp(s / T);
//   - a linear probe: logistic regression on standardized features, trained by the engine.
// Features come from the encoder in eval mode on the evaluation view of each image: the whole
// image resized to the training output size and normalized as in training (no random steps).
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "kernels/augment_params.h"
#include "layers/resnet.h"

namespace simclr {

// The encoder's features of every image of `images_u8` ([n, h, w, c], any device), computed in
// batches of `batch_size` on the encoder's device in `dtype`: [n, feature_dim] f32 on that
// device. The encoder's train/eval mode is restored afterwards.
Tensor extract_features(ResNet& encoder, const Tensor& images_u8, const AugmentPolicy& policy,
                        DType dtype, Device device, int64_t batch_size);

// The raw-pixel baseline's features: every image flattened, in [0, 1], [n, h*w*c] f32 on `device`.
Tensor pixel_features(const Tensor& images_u8, Device device);

// Top-1 accuracy of the weighted kNN classifier: features [n, d] (normalized here), labels int64
// [n] (any device), k neighbours from the training set for each test row, in chunks of test rows.
double knn_accuracy(const Tensor& train_features, const Tensor& train_labels,
                    const Tensor& test_features, const Tensor& test_labels, int64_t num_classes,
                    int64_t k, double temperature);

struct ProbeConfig {
  int64_t epochs = 30;
  double lr = 1e-3;
  double weight_decay = 1e-5;
  int64_t batch_size = 512;
  uint64_t seed = 0;
};

struct ProbeResult {
  double train_accuracy = 0;
  double test_accuracy = 0;
};

// Trains a Linear(d, num_classes) with AdamW on cross-entropy over the training features
// (standardized with the training set's per-dimension mean and std) and reports its accuracy.
ProbeResult linear_probe(const Tensor& train_features, const Tensor& train_labels,
                         const Tensor& test_features, const Tensor& test_labels,
                         int64_t num_classes, const ProbeConfig& config);

}  // namespace simclr
