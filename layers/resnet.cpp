#include "layers/resnet.h"

#include "layers/init.h"

namespace simclr {

namespace {

std::shared_ptr<Conv2d> conv(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                             int64_t padding, Generator& gen) {
  Conv2dConfig c;
  c.in_channels = in;
  c.out_channels = out;
  c.kernel = {kernel, kernel};
  c.options.stride = {stride, stride};
  c.options.padding = {padding, padding};
  c.bias = false;
  return std::make_shared<Conv2d>(c, &gen);
}

std::array<int, 4> blocks_for(int depth) {
  switch (depth) {
    case 18:
      return {2, 2, 2, 2};
    case 34:
      return {3, 4, 6, 3};
    case 50:
      return {3, 4, 6, 3};
    default:
      SIMCLR_THROW("ResNet: depth must be 18, 34 or 50, got ", depth);
  }
}

}  // namespace

ResidualBlock::ResidualBlock(bool bottleneck, int64_t in_channels, int64_t planes, int64_t stride,
                             Generator& gen)
    : bottleneck_(bottleneck), out_channels_(bottleneck ? planes * 4 : planes) {
  if (bottleneck) {
    conv1_ = register_module("conv1", conv(in_channels, planes, 1, 1, 0, gen));
    bn1_ = register_module("bn1", std::make_shared<BatchNorm>(planes, 4));
    conv2_ = register_module("conv2", conv(planes, planes, 3, stride, 1, gen));
    bn2_ = register_module("bn2", std::make_shared<BatchNorm>(planes, 4));
    conv3_ = register_module("conv3", conv(planes, out_channels_, 1, 1, 0, gen));
    bn3_ = register_module("bn3", std::make_shared<BatchNorm>(out_channels_, 4));
  } else {
    conv1_ = register_module("conv1", conv(in_channels, planes, 3, stride, 1, gen));
    bn1_ = register_module("bn1", std::make_shared<BatchNorm>(planes, 4));
    conv2_ = register_module("conv2", conv(planes, planes, 3, 1, 1, gen));
    bn2_ = register_module("bn2", std::make_shared<BatchNorm>(planes, 4));
  }
  if (stride != 1 || in_channels != out_channels_) {
    downsample_ = register_module("downsample", std::make_shared<Sequential>());
    downsample_->add(conv(in_channels, out_channels_, 1, stride, 0, gen));
    downsample_->add(std::make_shared<BatchNorm>(out_channels_, 4));
  }
}

Tensor ResidualBlock::forward(const Tensor& x) {
  const Tensor identity = downsample_ ? downsample_->forward(x) : x;
  Tensor out = bn1_->forward(conv1_->forward(x), Tensor(), true);
  if (!bottleneck_) return bn2_->forward(conv2_->forward(out), identity, true);
  out = bn2_->forward(conv2_->forward(out), Tensor(), true);
  return bn3_->forward(conv3_->forward(out), identity, true);
}

ResNet::ResNet(const ResNetConfig& config, Generator* gen) : config_(config) {
  const std::array<int, 4> blocks = blocks_for(config.depth);
  SIMCLR_CHECK(config.in_channels == 1 || config.in_channels == 3,
               "ResNet: expected 1 or 3 input channels, got ", config.in_channels);
  SIMCLR_CHECK(config.base_width > 0, "ResNet: expected base_width > 0, got ", config.base_width);
  Generator& g = gen ? *gen : default_generator();
  const bool bottleneck = config.depth == 50;
  const int64_t w = config.base_width;
  conv1_ = register_module("conv1", config.small_stem ? conv(config.in_channels, w, 3, 1, 1, g)
                                                      : conv(config.in_channels, w, 7, 2, 3, g));
  bn1_ = register_module("bn1", std::make_shared<BatchNorm>(w, 4));
  if (!config.small_stem) maxpool_ = std::make_shared<MaxPool2d>(3, 2, 1);
  int64_t channels = w;
  for (int i = 0; i < 4; ++i) {
    layers_[i] = register_module("layer" + std::to_string(i + 1), std::make_shared<Sequential>());
    const int64_t planes = w << i;
    for (int b = 0; b < blocks[static_cast<size_t>(i)]; ++b) {
      const int64_t stride = (i > 0 && b == 0) ? 2 : 1;
      auto block = std::make_shared<ResidualBlock>(bottleneck, channels, planes, stride, g);
      channels = block->out_channels();
      layers_[i]->add(block);
    }
  }
  feature_dim_ = channels;
  avgpool_ = std::make_shared<GlobalAvgPool2d>();
  if (config.num_classes > 0)
    fc_ = register_module("fc", std::make_shared<Linear>(channels, config.num_classes, true, &g));

  // torchvision: kaiming_normal_(mode="fan_out", nonlinearity="relu") for every convolution,
  // BN weight 1 and bias 0, and optionally each block's last BN weight 0.
  NoGradGuard no_grad;
  for (auto& [name, module] : named_modules()) {
    if (auto* c = dynamic_cast<Conv2d*>(module))
      kaiming_normal_relu(c->weight(), conv_fans(c->weight()).out, g);
    auto* block = dynamic_cast<ResidualBlock*>(module);
    if (block && config.zero_init_residual) fill_(block->last_bn().weight(), 0.0);
  }
}

Tensor ResNet::forward(const Tensor& x) {
  SIMCLR_CHECK(x.ndim() == 4 && x.size(3) == config_.in_channels,
               "ResNet: expected input [n, h, w, ", config_.in_channels, "] (NHWC), got ",
               x.shape().str());
  Tensor y = bn1_->forward(conv1_->forward(x), Tensor(), true);
  if (maxpool_) y = maxpool_->forward(y);
  for (auto& layer : layers_) y = layer->forward(y);
  y = avgpool_->forward(y);
  return fc_ ? fc_->forward(y) : y;
}

}  // namespace simclr
