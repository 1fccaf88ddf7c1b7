// The SimCLR model: a ResNet encoder (layers/resnet.h, no fc) and a projection head, the MLP that
// maps the encoder's features h to the embeddings z the loss sees. Parameter names follow a
// PyTorch SimCLR module with `encoder` and `head` children ("encoder.conv1.weight",
// "head.0.weight"), so the encoder alone is torchvision's ResNet under the prefix "encoder.".
#pragma once

#include <memory>

#include "layers/resnet.h"

namespace simclr {

struct ProjectionHeadConfig {
  // Linear layers: 2 is SimCLR v1's Linear-BN-ReLU-Linear, 3 is v2's deeper head.
  int layers = 2;
  int64_t hidden_dim = 0;  // 0: the encoder's feature dimension
  int64_t out_dim = 128;
};

// Each hidden layer is Linear (no bias: the BN that follows has one) - BatchNorm1d - ReLU; the last
// layer is a Linear with bias. As a Sequential: head.0 Linear, head.1 BN, head.2 ReLU, head.3 ...
class ProjectionHead : public Sequential {
 public:
  ProjectionHead(int64_t in_dim, const ProjectionHeadConfig& config, Generator* gen = nullptr);
  std::string name() const override { return "ProjectionHead"; }
};

class SimCLRModel : public Module {
 public:
  SimCLRModel(const ResNetConfig& encoder, const ProjectionHeadConfig& head,
              Generator* gen = nullptr);
  // views [2n, h, w, c] NHWC -> z [2n, out_dim].
  Tensor forward(const Tensor& views) override { return head_->forward(encoder_->forward(views)); }
  std::string name() const override { return "SimCLR"; }

  ResNet& encoder() { return *encoder_; }
  ProjectionHead& head() { return *head_; }

 private:
  std::shared_ptr<ResNet> encoder_;
  std::shared_ptr<ProjectionHead> head_;
};

}  // namespace simclr
