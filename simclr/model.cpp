#include "simclr/model.h"

#include "core/error.h"

namespace simclr {

ProjectionHead::ProjectionHead(int64_t in_dim, const ProjectionHeadConfig& config, Generator* gen) {
  SIMCLR_CHECK(config.layers >= 1, "ProjectionHead: expected at least 1 layer, got ",
               config.layers);
  SIMCLR_CHECK(in_dim > 0 && config.out_dim > 0 && config.hidden_dim >= 0,
               "ProjectionHead: expected positive sizes, got in ", in_dim, ", hidden ",
               config.hidden_dim, ", out ", config.out_dim);
  const int64_t hidden = config.hidden_dim > 0 ? config.hidden_dim : in_dim;
  int64_t dim = in_dim;
  for (int i = 0; i + 1 < config.layers; ++i) {
    add(std::make_shared<Linear>(dim, hidden, /*bias=*/false, gen));
    add(std::make_shared<BatchNorm>(hidden, 2));
    add(std::make_shared<ReLU>());
    dim = hidden;
  }
  add(std::make_shared<Linear>(dim, config.out_dim, /*bias=*/true, gen));
}

SimCLRModel::SimCLRModel(const ResNetConfig& encoder, const ProjectionHeadConfig& head,
                         Generator* gen) {
  ResNetConfig no_fc = encoder;
  no_fc.num_classes = 0;
  encoder_ = register_module("encoder", std::make_shared<ResNet>(no_fc, gen));
  head_ =
      register_module("head", std::make_shared<ProjectionHead>(encoder_->feature_dim(), head, gen));
}

}  // namespace simclr
