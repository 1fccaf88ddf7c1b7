// The PyTorch ResNet fixtures on CUDA: fp32 within 1e-3 and bf16 activations within 2e-2.
#include "golden.h"

using namespace simclr;

TEST_CASE("ResNet-18 on CUDA in fp32 matches PyTorch", "[cuda][layers][golden]") {
  test::check_fixture("resnet18_narrow", Device::cuda(0), DType::f32, 1e-3);
}

TEST_CASE("bottleneck ResNet on CUDA in fp32 matches PyTorch", "[cuda][layers][golden]") {
  // Parameter gradients: see resnet_golden_test.cpp on their fp32 conditioning.
  test::check_fixture("resnet50_narrow", Device::cuda(0), DType::f32, 1e-3, 2e-3);
}

TEST_CASE("ResNet-18 on CUDA in bf16 matches PyTorch", "[cuda][layers][golden]") {
  test::check_fixture("resnet18_narrow", Device::cuda(0), DType::bf16, 2e-2);
}

TEST_CASE("bottleneck ResNet on CUDA in bf16 matches PyTorch", "[cuda][layers][golden]") {
  test::check_fixture("resnet50_narrow", Device::cuda(0), DType::bf16, 2e-2);
}
