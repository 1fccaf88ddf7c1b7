// Linear: y = x W^T + b, as torch.nn.Linear (weight [out, in]).
#pragma once

#include "kernels/nn_ops.h"
#include "layers/module.h"

namespace simclr {

class Linear : public Module {
 public:
  // Initialized as PyTorch's Linear: weight and bias U(+-1/sqrt(in)).
  Linear(int64_t in_features, int64_t out_features, bool bias = true, Generator* gen = nullptr);
  // x [..., in] -> [..., out]; the fp32 parameters are cast to x's dtype.
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Linear"; }

  Tensor& weight() { return weight_->value; }
  Tensor* bias() { return bias_ ? &bias_->value : nullptr; }

 private:
  Parameter* weight_;
  Parameter* bias_ = nullptr;
};

}  // namespace simclr
