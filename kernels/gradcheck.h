// gradcheck: compares the gradients that backward() computes with central differences, in fp64
// on the CPU, as torch.autograd.gradcheck does.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace simclr {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
};

struct GradcheckResult {
  bool ok = true;
  std::string message;  // the first mismatch: input, element, analytic and numerical values
  double max_abs_error = 0;
};

// f maps the inputs (f64 CPU tensors that require grad) to one output tensor of any shape; the
// check differentiates sum(output * w) for a fixed random w, so every output element counts.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace simclr
