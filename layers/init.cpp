#include "layers/init.h"

#include <cmath>

#include "kernels/ops.h"

namespace simclr {

Fans conv_fans(const Tensor& weight) {
  const int64_t taps = weight.size(1) * weight.size(2);
  return {weight.size(3) * taps, weight.size(0) * taps};
}

Fans linear_fans(const Tensor& weight) {
  return {weight.size(1), weight.size(0)};
}

void kaiming_normal_relu(Tensor& weight, int64_t fan, Generator& gen) {
  NoGradGuard no_grad;
  normal_(weight, 0.0, std::sqrt(2.0 / static_cast<double>(fan)), &gen);
}

void default_uniform(Tensor& t, int64_t fan_in, Generator& gen) {
  NoGradGuard no_grad;
  const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
  uniform_(t, -bound, bound, &gen);
}

}  // namespace simclr
