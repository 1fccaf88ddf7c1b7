#include "layers/linear.h"

#include "layers/init.h"

namespace simclr {

Linear::Linear(int64_t in_features, int64_t out_features, bool bias, Generator* gen) {
  SIMCLR_CHECK(in_features > 0 && out_features > 0, "Linear: expected positive sizes, got in ",
               in_features, ", out ", out_features);
  Generator& g = gen ? *gen : default_generator();
  Tensor w = Tensor::empty({out_features, in_features});
  default_uniform(w, in_features, g);
  weight_ = register_parameter("weight", w);
  if (bias) {
    Tensor b = Tensor::empty({out_features});
    default_uniform(b, in_features, g);
    bias_ = register_parameter("bias", b, false);
  }
}

Tensor Linear::forward(const Tensor& x) {
  return linear(x, simclr::to(weight_->value, x.dtype()),
                bias_ ? simclr::to(bias_->value, x.dtype()) : Tensor());
}

}  // namespace simclr
