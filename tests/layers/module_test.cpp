#include <catch2/catch.hpp>

#include "layers/linear.h"
#include "layers/resnet.h"
#include "layers/sequential.h"
#include "test_util.h"

using namespace simclr;

TEST_CASE("modules name their state with dotted paths", "[layers]") {
  Sequential seq;
  seq.add(std::make_shared<Linear>(4, 3));
  seq.add(std::make_shared<ReLU>());
  seq.add(std::make_shared<Linear>(3, 2, false));
  std::vector<std::string> names;
  for (auto& [name, p] : seq.named_parameters()) names.push_back(name);
  REQUIRE(names == std::vector<std::string>{"0.weight", "0.bias", "2.weight"});
  REQUIRE(seq.parameter_count() == 4 * 3 + 3 + 3 * 2);
  REQUIRE(seq.named_parameters()[1].second->weight_decay == false);  // biases are not decayed
  REQUIRE(seq.named_parameters()[0].second->weight_decay == true);
  for (const Tensor& p : seq.parameters()) REQUIRE(p.requires_grad());
  REQUIRE(seq.forward(ones({5, 4})).shape() == Shape({5, 2}));
}

TEST_CASE("train eval and zero_grad reach every module", "[layers]") {
  Sequential seq;
  auto a = seq.add(std::make_shared<Linear>(2, 2));
  seq.eval();
  REQUIRE_FALSE(a->is_training());
  seq.train();
  REQUIRE(a->is_training());
  sum(seq.forward(ones({1, 2}))).backward();
  REQUIRE(a->weight().grad().defined());
  seq.zero_grad();
  REQUIRE_FALSE(a->weight().grad().defined());
}

TEST_CASE("layers start from PyTorch's default initialization", "[layers]") {
  Generator gen(5);
  Linear fc(400, 300, true, &gen);
  const double bound = 1.0 / 20.0;  // 1 / sqrt(in)
  REQUIRE(item(max(abs(fc.weight()))) <= bound);
  REQUIRE(item(max(abs(fc.weight()))) > 0.9 * bound);
  REQUIRE(item(max(abs(*fc.bias()))) <= bound);
}

TEST_CASE("ResNet parameter counts equal torchvision's", "[layers]") {
  // torchvision resnet18/34/50 without the fc layer (its 513,000 and 2,049,000 parameters).
  const std::pair<int, int64_t> expected[] = {{18, 11176512}, {34, 21284672}, {50, 23508032}};
  for (auto [depth, count] : expected) {
    INFO("resnet" << depth);
    ResNetConfig config;
    config.depth = depth;
    ResNet net(config);
    REQUIRE(net.parameter_count() == count);
    REQUIRE(net.feature_dim() == (depth == 50 ? 2048 : 512));
  }
  ResNetConfig with_fc;
  with_fc.num_classes = 1000;
  REQUIRE(ResNet(with_fc).parameter_count() == 11689512);
}

TEST_CASE("ResNet state names follow torchvision", "[layers]") {
  ResNetConfig config;
  config.depth = 50;
  ResNet net(config);
  std::vector<std::string> names;
  for (auto& [name, p] : net.named_parameters()) names.push_back(name);
  for (auto& [name, b] : net.named_buffers()) names.push_back(name);
  for (const char* key :
       {"conv1.weight", "bn1.running_var", "layer1.0.conv3.weight", "layer1.0.downsample.0.weight",
        "layer1.0.downsample.1.num_batches_tracked", "layer4.2.bn3.bias",
        "layer3.5.bn2.running_mean"})
    REQUIRE(std::count(names.begin(), names.end(), key) == 1);
  // The stride of a bottleneck's first block sits on its 3x3 convolution (torchvision v1.5).
  Conv2d* conv2 = nullptr;
  Conv2d* conv1 = nullptr;
  for (auto& [name, m] : net.named_modules()) {
    if (name == "layer2.0.conv2") conv2 = dynamic_cast<Conv2d*>(m);
    if (name == "layer2.0.conv1") conv1 = dynamic_cast<Conv2d*>(m);
  }
  REQUIRE(conv2->config().options.stride[0] == 2);
  REQUIRE(conv1->config().options.stride[0] == 1);
}

TEST_CASE("ResNet options: small stem width multiplier and zero-init residual", "[layers]") {
  ResNetConfig config;
  config.small_stem = true;
  config.in_channels = 1;
  config.base_width = 16;
  config.zero_init_residual = true;
  ResNet net(config);
  REQUIRE(net.feature_dim() == 128);
  for (auto& [name, m] : net.named_modules()) {
    if (name == "conv1") {
      auto* c = dynamic_cast<Conv2d*>(m);
      REQUIRE(c->weight().shape() == Shape({16, 3, 3, 1}));
      REQUIRE(c->config().options.stride[0] == 1);
    }
    if (auto* block = dynamic_cast<ResidualBlock*>(m))
      REQUIRE(item(sum(abs(block->last_bn().weight()))) == 0);
  }
  ResNetConfig wide;
  wide.depth = 50;
  wide.base_width = 128;  // ResNet-50 (2x)
  REQUIRE(ResNet(wide).feature_dim() == 4096);
  REQUIRE_THROWS_WITH(ResNet(ResNetConfig{.depth = 20}),
                      Catch::Contains("depth must be 18, 34 or 50"));
}

TEST_CASE("kaiming normal init gives each conv the fan-out variance", "[layers]") {
  ResNetConfig config;
  ResNet net(config);
  for (auto& [name, m] : net.named_modules()) {
    if (name != "layer3.0.conv1") continue;
    auto* c = dynamic_cast<Conv2d*>(m);
    const Tensor w = to(c->weight(), DType::f64);
    const double fan_out = static_cast<double>(c->weight().size(0) * 9);
    REQUIRE(item(mean(square(w))) == Approx(2.0 / fan_out).epsilon(0.05));
  }
}
