#include <catch2/catch.hpp>

#include "kernels/ops.h"
#include "simclr/model.h"

namespace simclr {

TEST_CASE("SimCLRModel names and shapes follow a PyTorch encoder + head module", "[simclr]") {
  ResNetConfig encoder;
  encoder.in_channels = 1;
  encoder.base_width = 8;
  encoder.small_stem = true;
  ProjectionHeadConfig head;
  head.out_dim = 16;
  Generator gen(3);
  SimCLRModel model(encoder, head, &gen);
  const auto params = model.named_parameters();
  std::vector<std::string> names;
  for (const auto& [name, p] : params) names.push_back(name);
  CHECK(names.front() == "encoder.conv1.weight");
  CHECK(std::find(names.begin(), names.end(), "head.0.weight") != names.end());
  CHECK(std::find(names.begin(), names.end(), "head.1.weight") != names.end());
  CHECK(std::find(names.begin(), names.end(), "head.3.bias") != names.end());
  CHECK(std::find(names.begin(), names.end(), "head.0.bias") == names.end());
  const Tensor z = model.forward(randn({6, 12, 12, 1}, DType::f32, Device::cpu(), &gen));
  CHECK(z.shape() == Shape{6, 16});

  head.layers = 3;
  head.hidden_dim = 24;
  SimCLRModel deep(encoder, head, &gen);
  const auto deep_params = deep.named_parameters();
  CHECK(std::any_of(deep_params.begin(), deep_params.end(),
                    [](const auto& p) { return p.first == "head.6.bias"; }));
  CHECK(deep.forward(randn({4, 12, 12, 1}, DType::f32, Device::cpu(), &gen)).shape() ==
        Shape{4, 16});
}

}  // namespace simclr
