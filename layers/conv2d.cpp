#include "layers/conv2d.h"

#include "layers/init.h"

namespace simclr {

Conv2d::Conv2d(const Conv2dConfig& config, Generator* gen) : config_(config) {
  SIMCLR_CHECK(config.in_channels > 0 && config.out_channels > 0 && config.kernel[0] > 0 &&
                   config.kernel[1] > 0,
               "Conv2d: expected positive channels and kernel size, got in ", config.in_channels,
               ", out ", config.out_channels, ", kernel ", config.kernel[0], "x", config.kernel[1]);
  Generator& g = gen ? *gen : default_generator();
  Tensor w =
      Tensor::empty({config.out_channels, config.kernel[0], config.kernel[1], config.in_channels});
  default_uniform(w, conv_fans(w).in, g);
  weight_ = register_parameter("weight", w, true, {0, 3, 1, 2});
  if (config.bias) {
    Tensor b = Tensor::empty({config.out_channels});
    default_uniform(b, conv_fans(w).in, g);
    bias_ = register_parameter("bias", b, false);
  }
}

Tensor Conv2d::forward(const Tensor& x) {
  const Tensor w = simclr::to(weight_->value, x.dtype());
  const Tensor b = bias_ ? simclr::to(bias_->value, x.dtype()) : Tensor();
  return conv2d(x, w, b, config_.options);
}

}  // namespace simclr
