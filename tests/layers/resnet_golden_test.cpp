// ResNet-18 (basic blocks, small stem) and a bottleneck ResNet (ImageNet stem with max-pool)
// against PyTorch fixtures on the CPU in fp32: forward, backward and BN statistics after a step.
#include <filesystem>

#include "core/npy.h"
#include "golden.h"

using namespace simclr;

TEST_CASE("ResNet-18 on the CPU matches PyTorch", "[layers][golden]") {
  test::check_fixture("resnet18_narrow", Device::cpu(), DType::f32, 1e-4);
}

// The bottleneck net's parameter gradients are badly conditioned in fp32: PyTorch's own fp32
// gradient of layer1.0.bn1.bias is 4.6e-4 (relative) away from the exact (fp64) one of the fixture,
// and ours 3.7e-4. So fp64 shows the math is PyTorch's (to 1e-5: BN keeps its statistics in fp32
// by design, even for fp64 activations), and fp32 is held to what fp32 reaches.
TEST_CASE("bottleneck ResNet on the CPU in fp64 matches PyTorch closely", "[layers][golden]") {
  test::check_fixture("resnet50_narrow", Device::cpu(), DType::f64, 1e-5);
}

TEST_CASE("bottleneck ResNet on the CPU in fp32 matches PyTorch", "[layers][golden]") {
  test::check_fixture("resnet50_narrow", Device::cpu(), DType::f32, 1e-4, 1e-3);
}

TEST_CASE("ResNet-18 on the CPU in fp64 matches PyTorch closely", "[layers][golden]") {
  test::check_fixture("resnet18_narrow", Device::cpu(), DType::f64, 1e-5);
}

// Leaves our checkpoint and eval-mode output where tests/data/make_fixtures.py verify reads them:
// PyTorch loads the checkpoint with strict=True and must reproduce the output.
TEST_CASE("a checkpoint for PyTorch to verify", "[layers][golden]") {
  auto net = test::check_fixture("resnet18_narrow", Device::cpu(), DType::f32, 1e-4);
  const SafetensorsData expected =
      load_safetensors(test::fixture_path("resnet18_narrow.expected.safetensors"));
  net->eval();
  NoGradGuard no_grad;
  const Tensor x = contiguous(permute(*expected.find("input"), {0, 2, 3, 1}));
  const std::string dir = SIMCLR_TEST_OUTPUT_DIR;
  std::filesystem::create_directories(dir);
  save_checkpoint(dir + "/resnet18_narrow.ckpt.safetensors", *net,
                  {{"optimizer.example", ones({2})}}, {{"step", "1"}});
  save_npy(dir + "/resnet18_narrow.eval_output.npy", net->forward(x));
  // Our own loader reads it back exactly.
  Checkpoint back = load_checkpoint(dir + "/resnet18_narrow.ckpt.safetensors", *net);
  REQUIRE(back.metadata.at("step") == "1");
}
