// Conv2d on NHWC activations. The filter is stored [out, kh, kw, in] (cuDNN's NHWC filter layout)
// and saved to disk as PyTorch's OIHW.
#pragma once

#include "kernels/nn_ops.h"
#include "layers/module.h"

namespace simclr {

struct Conv2dConfig {
  int64_t in_channels = 0, out_channels = 0;
  std::array<int64_t, 2> kernel{1, 1};
  Conv2dOptions options;
  bool bias = true;
};

class Conv2d : public Module {
 public:
  // Initialized as PyTorch's Conv2d (kaiming_uniform_(a=sqrt(5)), bias U(+-1/sqrt(fan_in))).
  explicit Conv2d(const Conv2dConfig& config, Generator* gen = nullptr);
  // x [n, h, w, in] -> [n, p, q, out]; the fp32 weight is cast to x's dtype for the product.
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Conv2d"; }

  const Conv2dConfig& config() const { return config_; }
  Tensor& weight() { return weight_->value; }
  Tensor* bias() { return bias_ ? &bias_->value : nullptr; }

 private:
  Conv2dConfig config_;
  Parameter* weight_;
  Parameter* bias_ = nullptr;
};

}  // namespace simclr
