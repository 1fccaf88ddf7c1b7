#include <catch2/catch.hpp>

#include <filesystem>

#include "core/safetensors.h"
#include "layers/checkpoint.h"
#include "layers/resnet.h"
#include "test_util.h"

using namespace simclr;

namespace {
std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("simclr_ckpt_" + name)).string();
}

ResNetConfig small() {
  ResNetConfig c;
  c.small_stem = true;
  c.base_width = 8;
  c.in_channels = 1;
  return c;
}
}  // namespace

TEST_CASE("checkpoints round trip a module with extras and metadata", "[layers]") {
  Generator g1(1), g2(2);
  ResNet a(small(), &g1), b(small(), &g2);
  const std::string path = temp_path("roundtrip.safetensors");
  const Tensor momentum = test::random_tensor({3, 4}, DType::f32, 9);
  save_checkpoint(path, a, {{"optimizer.step_state", momentum}}, {{"step", "42"}});
  const Checkpoint loaded = load_checkpoint(path, b);
  auto pa = a.named_parameters(), pb = b.named_parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    INFO(pa[i].first);
    REQUIRE(test::values(pa[i].second->value) == test::values(pb[i].second->value));
    REQUIRE(pb[i].second->value.requires_grad());
  }
  REQUIRE(loaded.metadata.at("step") == "42");
  REQUIRE(loaded.extra.size() == 1);
  REQUIRE(test::values(loaded.extra[0].second) == test::values(momentum));
  std::filesystem::remove(path);
}

TEST_CASE("checkpoints store filters as PyTorch's OIHW", "[layers]") {
  Conv2dConfig config;
  config.in_channels = 2;
  config.out_channels = 3;
  config.kernel = {4, 5};
  Conv2d conv(config);
  const std::string path = temp_path("oihw.safetensors");
  save_checkpoint(path, conv);
  const SafetensorsData data = load_safetensors(path);
  const Tensor& disk = *data.find("weight");
  REQUIRE(disk.shape() == Shape({3, 2, 4, 5}));
  // disk[o][i][h][w] == memory[o][h][w][i]
  REQUIRE(test::values(disk) == test::values(permute(conv.weight(), {0, 3, 1, 2})));
  std::filesystem::remove(path);
}

TEST_CASE("strict loading lists every missing unexpected and mis-shaped key", "[layers]") {
  ResNet net(small());
  ResNetConfig other = small();
  other.base_width = 4;
  ResNet narrow(other);
  const std::string path = temp_path("mismatch.safetensors");
  save_safetensors(path, {{"conv1.weight", zeros({4, 1, 3, 3})},  // the narrow net's shape
                          {"bn1.weight", ones({8})},
                          {"head.bias", zeros({2})}});
  try {
    load_checkpoint(path, net);
    FAIL("no error");
  } catch (const Error& e) {
    const std::string m = e.what();
    REQUIRE_THAT(m, Catch::Contains(path) && Catch::Contains("missing keys [bn1.bias,") &&
                        Catch::Contains("layer4.1.bn2.num_batches_tracked") &&
                        Catch::Contains("unexpected keys [head.bias]") &&
                        Catch::Contains("conv1.weight (file [4, 1, 3, 3], model [8, 1, 3, 3])"));
  }
  // Not strict: what matches is loaded, the rest is left alone.
  REQUIRE_NOTHROW(load_checkpoint(path, net, false));
  REQUIRE(test::values(net.named_parameters()[1].second->value) == std::vector<double>(8, 1.0));
  std::filesystem::remove(path);
}

TEST_CASE("BatchNorm counts its training batches as PyTorch", "[layers]") {
  BatchNorm bn(3, 2);
  REQUIRE(bn.num_batches_tracked() == 0);
  const std::string path = temp_path("bn.safetensors");
  save_checkpoint(path, bn);
  const SafetensorsData data = load_safetensors(path);
  REQUIRE(data.find("num_batches_tracked")->dtype() == DType::i64);
  REQUIRE(data.find("num_batches_tracked")->shape() == Shape());
  std::filesystem::remove(path);
}
