// batch_norm: the op over channels-last activations, with its fused residual and ReLU forms.
// Training normalizes with the batch statistics, saves the mean and 1/sqrt(var + eps) for
// backward and updates the running statistics in place (they are buffers: no gradient reaches
// them); eval normalizes with the running statistics. The backward is one fused kernel.
#include "kernels/dispatch.h"
#include "kernels/nn_ops.h"

namespace simclr {

namespace {

// gamma, beta and the running statistics: f32 [channels] on x's device.
void check_channel_param(const Tensor& t, const char* what, int64_t channels, const Tensor& x) {
  SIMCLR_CHECK(t.defined(), "batch_norm: ", what, " is undefined; expected an f32 tensor [",
               channels, "] on ", x.device().str());
  SIMCLR_CHECK(t.dtype() == DType::f32 && t.ndim() == 1 && t.shape()[0] == channels &&
                   t.device() == x.device(),
               "batch_norm: expected ", what, " to be an f32 tensor [", channels, "] on ",
               x.device().str(), " (the channels of input ", x.shape().str(), "), got ", t.str());
}

}  // namespace

Tensor batch_norm(const Tensor& x_in, const Tensor& gamma_in, const Tensor& beta_in,
                  Tensor& running_mean, Tensor& running_var, bool training, double momentum,
                  double eps, const Tensor& residual_in, bool relu) {
  SIMCLR_CHECK(x_in.defined(), "batch_norm: the input is undefined");
  detail::check_floating(x_in, "batch_norm");
  SIMCLR_CHECK(x_in.ndim() >= 2,
               "batch_norm: expected an input with channels last, [n, c] or [n, h, w, c], got ",
               x_in.str());
  const int64_t channels = x_in.shape()[x_in.ndim() - 1];
  int64_t rows = 1;
  for (int i = 0; i + 1 < x_in.ndim(); ++i) rows *= x_in.shape()[i];

  check_channel_param(gamma_in, "gamma (weight)", channels, x_in);
  check_channel_param(beta_in, "beta (bias)", channels, x_in);
  check_channel_param(running_mean, "running_mean", channels, x_in);
  check_channel_param(running_var, "running_var", channels, x_in);
  for (const Tensor* t : {&running_mean, &running_var}) {
    SIMCLR_CHECK(t->is_contiguous() && !t->requires_grad(),
                 "batch_norm: the running statistics are updated in place and must be contiguous "
                 "buffers that do not require grad, got ",
                 t->str(), t->requires_grad() ? " (requires grad)" : " (not contiguous)");
  }
  if (residual_in.defined()) {
    SIMCLR_CHECK(residual_in.shape() == x_in.shape() && residual_in.dtype() == x_in.dtype() &&
                     residual_in.device() == x_in.device(),
                 "batch_norm: expected the residual to match the input ", x_in.str(), ", got ",
                 residual_in.str());
  }
  SIMCLR_CHECK(!training || rows > 1,
               "batch_norm: expected more than 1 value per channel when training, got input ",
               x_in.shape().str());
  SIMCLR_CHECK(eps >= 0, "batch_norm: expected eps >= 0, got ", eps);

  const Device device = x_in.device();
  const Tensor x = contiguous(x_in);
  const Tensor gamma = contiguous(gamma_in);
  const Tensor beta = contiguous(beta_in);
  const Tensor residual = residual_in.defined() ? contiguous(residual_in) : Tensor();
  Tensor y = Tensor::empty(x.shape(), x.dtype(), device);
  Tensor save_mean, save_invstd;
  if (training) {
    save_mean = Tensor::empty({channels}, DType::f32, device);
    save_invstd = Tensor::empty({channels}, DType::f32, device);
  }
  SIMCLR_DISPATCH(
      device, batch_norm_forward, x.dtype(), rows, channels, x.data_ptr(), gamma.data<float>(),
      beta.data<float>(), residual.defined() ? residual.data_ptr() : nullptr, relu, training,
      static_cast<float>(momentum), static_cast<float>(eps), running_mean.data<float>(),
      running_var.data<float>(), training ? save_mean.data<float>() : nullptr,
      training ? save_invstd.data<float>() : nullptr, y.data_ptr(), current_stream(device));

  const std::vector<Tensor> inputs{x, gamma, beta, residual};
  if (!detail::needs_grad(inputs)) return y;
  if (!training) {
    // Eval: the statistics the forward used, kept in case the buffers change before backward.
    NoGradGuard no_grad;
    save_mean = clone(running_mean);
    save_invstd = rsqrt(add(running_var, eps));  // 1 / sqrt(var + eps) in f32, as the kernel
  }
  return detail::record(
      y, "batch_norm", inputs, {x, relu ? y.detach() : Tensor(), gamma, save_mean, save_invstd},
      [rows, channels, relu, training](Node& node, const std::vector<Tensor>& g) {
        const Tensor& x = node.saved[0];
        const Tensor& y = node.saved[1];
        const Tensor& gamma = node.saved[2];
        const Device device = x.device();
        const Tensor grad_y = contiguous(g[0]);
        Tensor grad_x, grad_residual;
        if (node.needs_input_grad(0)) grad_x = Tensor::empty(x.shape(), x.dtype(), device);
        if (node.needs_input_grad(3)) grad_residual = Tensor::empty(x.shape(), x.dtype(), device);
        Tensor grad_gamma = Tensor::empty({channels}, DType::f32, device);
        Tensor grad_beta = Tensor::empty({channels}, DType::f32, device);
        SIMCLR_DISPATCH(device, batch_norm_backward, x.dtype(), rows, channels, x.data_ptr(),
                        relu ? y.data_ptr() : nullptr, grad_y.data_ptr(), gamma.data<float>(),
                        node.saved[3].data<float>(), node.saved[4].data<float>(), relu, training,
                        grad_x.defined() ? grad_x.data_ptr() : nullptr, grad_gamma.data<float>(),
                        grad_beta.data<float>(),
                        grad_residual.defined() ? grad_residual.data_ptr() : nullptr,
                        current_stream(device));
        return std::vector<Tensor>{grad_x, node.needs_input_grad(1) ? grad_gamma : Tensor(),
                                   node.needs_input_grad(2) ? grad_beta : Tensor(), grad_residual};
      });
}

}  // namespace simclr
