#include "kernels/gradcheck.h"

#include <cmath>
#include <sstream>

#include "kernels/ops.h"

namespace simclr {

namespace {

double weighted_sum(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                    const std::vector<Tensor>& inputs, const Tensor& w) {
  NoGradGuard no_grad;
  return item(sum(mul(f(inputs), w)));
}

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
  std::vector<Tensor> leaves;
  for (const Tensor& in : inputs) {
    SIMCLR_CHECK(in.dtype() == DType::f64 && in.device().is_cpu(),
                 "gradcheck: expected f64 CPU inputs, got ", in.str());
    Tensor leaf = clone(in.detach());
    leaf.set_requires_grad(true);
    leaves.push_back(leaf);
  }
  Tensor out = f(leaves);
  Generator gen(20261130);
  const Tensor w = randn(out.shape(), DType::f64, Device::cpu(), &gen);
  sum(mul(out, w)).backward();

  GradcheckResult result;
  for (size_t i = 0; i < leaves.size(); ++i) {
    const Tensor analytic = leaves[i].grad().defined() ? leaves[i].grad() : zeros_like(leaves[i]);
    const std::vector<double> a = to_vector<double>(analytic);
    std::vector<Tensor> probe;
    for (const Tensor& l : leaves) probe.push_back(clone(l.detach()));
    double* x = probe[i].data<double>();
    for (int64_t j = 0; j < probe[i].numel(); ++j) {
      const double saved = x[j];
      x[j] = saved + options.eps;
      const double plus = weighted_sum(f, probe, w);
      x[j] = saved - options.eps;
      const double minus = weighted_sum(f, probe, w);
      x[j] = saved;
      const double numerical = (plus - minus) / (2 * options.eps);
      const double error = std::abs(a[static_cast<size_t>(j)] - numerical);
      result.max_abs_error = std::max(result.max_abs_error, error);
      if (result.ok && !(error <= options.atol + options.rtol * std::abs(numerical))) {
        std::ostringstream msg;
        msg << "gradcheck: input " << i << " " << leaves[i].shape().str() << ", element " << j
            << ": backward gives " << a[static_cast<size_t>(j)] << ", central differences give "
            << numerical;
        result.ok = false;
        result.message = msg.str();
      }
    }
  }
  return result;
}

}  // namespace simclr
