// Batch norm over a [rows, channels] view (NHWC: rows = n * h * w, channels contiguous): the
// readable reference. Per-channel sums run in double over the rows in order (two passes: the mean,
// then the squared deviations from it), so the statistics are deterministic and stable; the
// per-element math is kernels/batch_norm_math.h, as on CUDA.
#include <cmath>
#include <vector>

#include "kernels/backends.h"
#include "kernels/batch_norm_math.h"
#include "kernels/cast.h"

namespace simclr::cpu {

void batch_norm_forward(DType dtype, int64_t rows, int64_t channels, const void* x_ptr,
                        const float* gamma, const float* beta, const void* residual_ptr, bool relu,
                        bool training, float momentum, float eps, float* running_mean,
                        float* running_var, float* save_mean, float* save_invstd, void* y_ptr,
                        Stream) {
  if (channels <= 0 || rows <= 0) return;
  dispatch_floating(dtype, "batch_norm_forward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    const T* x = static_cast<const T*>(x_ptr);
    const T* residual = static_cast<const T*>(residual_ptr);
    T* y = static_cast<T*>(y_ptr);
    const auto C = static_cast<size_t>(channels);
    const auto R = static_cast<size_t>(rows);

    // The statistics that normalize: the batch's (training) or the running ones (eval).
    std::vector<A> mean(C), invstd(C);
    if (training) {
      std::vector<double> mu(C, 0.0), m2(C, 0.0);
      for (size_t r = 0; r < R; ++r)
        for (size_t c = 0; c < C; ++c) mu[c] += static_cast<double>(cast_element<A>(x[r * C + c]));
      for (size_t c = 0; c < C; ++c) mu[c] /= static_cast<double>(rows);
      for (size_t r = 0; r < R; ++r) {
        for (size_t c = 0; c < C; ++c) {
          const double d = static_cast<double>(cast_element<A>(x[r * C + c])) - mu[c];
          m2[c] += d * d;
        }
      }
      for (size_t c = 0; c < C; ++c) {
        mean[c] = static_cast<A>(mu[c]);
        invstd[c] = bn::invstd(static_cast<A>(m2[c] / static_cast<double>(rows)), A(eps));
        if (save_mean) save_mean[c] = static_cast<float>(mean[c]);
        if (save_invstd) save_invstd[c] = static_cast<float>(invstd[c]);
        // The running variance is the unbiased one, M2 / (rows - 1), as PyTorch's.
        if (running_mean)
          running_mean[c] =
              bn::running_update(running_mean[c], static_cast<float>(mean[c]), momentum);
        if (running_var) {
          const float unbiased = static_cast<float>(m2[c] / static_cast<double>(rows - 1));
          running_var[c] = bn::running_update(running_var[c], unbiased, momentum);
        }
      }
    } else {
      for (size_t c = 0; c < C; ++c) {
        mean[c] = static_cast<A>(running_mean[c]);
        invstd[c] = bn::invstd(static_cast<A>(running_var[c]), A(eps));
      }
    }

    for (size_t r = 0; r < R; ++r) {
      for (size_t c = 0; c < C; ++c) {
        const size_t i = r * C + c;
        const A res = residual ? cast_element<A>(residual[i]) : A(0);
        const A scale = static_cast<A>(gamma[c]) * invstd[c];
        y[i] = cast_element<T>(
            bn::forward(cast_element<A>(x[i]), mean[c], scale, static_cast<A>(beta[c]), res, relu));
      }
    }
  });
}

void batch_norm_backward(DType dtype, int64_t rows, int64_t channels, const void* x_ptr,
                         const void* y_ptr, const void* grad_y_ptr, const float* gamma,
                         const float* mean, const float* invstd, bool relu, bool training,
                         void* grad_x_ptr, float* grad_gamma, float* grad_beta,
                         void* grad_residual_ptr, Stream) {
  if (channels <= 0) return;
  dispatch_floating(dtype, "batch_norm_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    const T* x = static_cast<const T*>(x_ptr);
    const T* y = static_cast<const T*>(y_ptr);
    const T* grad_y = static_cast<const T*>(grad_y_ptr);
    T* grad_x = static_cast<T*>(grad_x_ptr);
    T* grad_residual = static_cast<T*>(grad_residual_ptr);
    const auto C = static_cast<size_t>(channels);
    const auto R = static_cast<size_t>(rows);

    // g = grad_y through the ReLU mask; xhat = (x - mean) * invstd.
    auto masked = [&](size_t i) {
      return bn::masked_grad(cast_element<A>(grad_y[i]), relu ? cast_element<A>(y[i]) : A(0), relu);
    };
    auto xhat = [&](size_t i, size_t c) {
      return (cast_element<A>(x[i]) - static_cast<A>(mean[c])) * static_cast<A>(invstd[c]);
    };

    // grad_beta = sum(g), grad_gamma = sum(g * xhat), per channel over the rows in order.
    std::vector<double> sum_g(C, 0.0), sum_g_xhat(C, 0.0);
    for (size_t r = 0; r < R; ++r) {
      for (size_t c = 0; c < C; ++c) {
        const size_t i = r * C + c;
        const A g = masked(i);
        sum_g[c] += static_cast<double>(g);
        sum_g_xhat[c] += static_cast<double>(g * xhat(i, c));
      }
    }
    for (size_t c = 0; c < C; ++c) {
      if (grad_gamma) grad_gamma[c] = static_cast<float>(sum_g_xhat[c]);
      if (grad_beta) grad_beta[c] = static_cast<float>(sum_g[c]);
    }

    std::vector<A> mean_g(C), mean_g_xhat(C), scale(C);
    for (size_t c = 0; c < C; ++c) {
      mean_g[c] = static_cast<A>(sum_g[c] / static_cast<double>(rows));
      mean_g_xhat[c] = static_cast<A>(sum_g_xhat[c] / static_cast<double>(rows));
      scale[c] = static_cast<A>(gamma[c]) * static_cast<A>(invstd[c]);
    }
    for (size_t r = 0; r < R; ++r) {
      for (size_t c = 0; c < C; ++c) {
        const size_t i = r * C + c;
        const A g = masked(i);
        if (grad_x)
          grad_x[i] = cast_element<T>(
              bn::grad_input(g, xhat(i, c), scale[c], mean_g[c], mean_g_xhat[c], training));
        if (grad_residual) grad_residual[i] = cast_element<T>(g);
      }
    }
  });
}

}  // namespace simclr::cpu
