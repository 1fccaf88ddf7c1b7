// ResNet-18/34/50 as torchvision defines them (BasicBlock; Bottleneck with its stride on the 3x3
// convolution, "ResNet v1.5"), with torchvision's parameter names, on NHWC inputs. Options for
// SimCLR: a small-image stem (3x3 stride-1 convolution, no max-pool) for 28-32 px inputs, 1 or 3
// input channels, a width multiplier (ResNet-50 1x, 2x, 4x), zero-init of each block's last BN,
// and no fc (the encoder returns the pooled features).
#pragma once

#include <memory>

#include "layers/batch_norm.h"
#include "layers/conv2d.h"
#include "layers/linear.h"
#include "layers/sequential.h"

namespace simclr {

struct ResNetConfig {
  int depth = 18;           // 18, 34 or 50
  int64_t in_channels = 3;  // 1 (Fashion-MNIST) or 3
  int64_t base_width = 64;  // channels of the stem and layer1; 64 * k for "k x" wide
  bool small_stem = false;  // 3x3 stride-1 conv1 and no max-pool
  bool zero_init_residual = false;
  int64_t num_classes = 0;  // 0: no fc, forward returns [n, feature_dim()]
};

// Either block type: forward(x) = relu(branch(x) + shortcut(x)).
class ResidualBlock : public Module {
 public:
  ResidualBlock(bool bottleneck, int64_t in_channels, int64_t planes, int64_t stride,
                Generator& gen);
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return bottleneck_ ? "Bottleneck" : "BasicBlock"; }
  int64_t out_channels() const { return out_channels_; }
  BatchNorm& last_bn() { return bottleneck_ ? *bn3_ : *bn2_; }

 private:
  bool bottleneck_;
  int64_t out_channels_;
  std::shared_ptr<Conv2d> conv1_, conv2_, conv3_;
  std::shared_ptr<BatchNorm> bn1_, bn2_, bn3_;
  std::shared_ptr<Sequential> downsample_;
};

class ResNet : public Module {
 public:
  explicit ResNet(const ResNetConfig& config, Generator* gen = nullptr);
  // x [n, h, w, in_channels] NHWC -> [n, feature_dim()] (or [n, num_classes] with an fc).
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "ResNet"; }
  int64_t feature_dim() const { return feature_dim_; }
  const ResNetConfig& config() const { return config_; }

 private:
  ResNetConfig config_;
  int64_t feature_dim_ = 0;
  std::shared_ptr<Conv2d> conv1_;
  std::shared_ptr<BatchNorm> bn1_;
  std::shared_ptr<MaxPool2d> maxpool_;
  std::shared_ptr<Sequential> layers_[4];
  std::shared_ptr<GlobalAvgPool2d> avgpool_;
  std::shared_ptr<Linear> fc_;
};

}  // namespace simclr
