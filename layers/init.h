// Weight initializations as torch.nn.init defines them, drawing from a Generator.
#pragma once

#include "core/philox.h"
#include "core/tensor.h"

namespace simclr {

// fan_in and fan_out of a weight in PyTorch's sense; conv filters [k, r, s, c] count r * s
// receptive-field elements, as OIHW does.
struct Fans {
  int64_t in = 0, out = 0;
};
Fans conv_fans(const Tensor& weight);    // [k, r, s, c]
Fans linear_fans(const Tensor& weight);  // [out, in]

// kaiming_normal_(mode, nonlinearity='relu'): N(0, sqrt(2 / fan)).
void kaiming_normal_relu(Tensor& weight, int64_t fan, Generator& gen);
// PyTorch's default for Conv2d and Linear: kaiming_uniform_(a=sqrt(5)), i.e. U(-b, b) with
// b = 1 / sqrt(fan_in); their biases use the same bound.
void default_uniform(Tensor& t, int64_t fan_in, Generator& gen);

}  // namespace simclr
