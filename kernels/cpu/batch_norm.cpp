// Batch norm over a [rows, channels] view (NHWC: rows = n * h * w, channels contiguous). The rows
// are cut into blocks of about kBlockElements values whose bounds depend only on the shape; the
// blocks run on the CPU thread pool (kernels/cpu/parallel.h). Each block's per-channel statistics
// are summed in double (the mean and M2 of its rows: two passes over a block that stays in cache)
// and the blocks are merged in order with Chan's formulas; the backward's per-block sums run in
// the accumulation type and are added in double, in block order. So the statistics are
// deterministic for any thread count and stable. The per-element math is
// kernels/batch_norm_math.h, as on CUDA; the loops are compiled for AVX-512 too (cpu/simd.h).
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/backends.h"
#include "kernels/batch_norm_math.h"
#include "kernels/cast.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/scratch.h"
#include "kernels/cpu/simd.h"

namespace simclr::cpu {

namespace {

// About 64 KiB of f32 per block: small enough to be read twice from cache, large enough that the
// per-block partials cost nothing.
constexpr int64_t kBlockElements = 16384;

struct Blocks {
  int64_t rows_per_block, count;
  Blocks(int64_t rows, int64_t channels)
      : rows_per_block(std::max<int64_t>(1, kBlockElements / channels)),
        count((rows + rows_per_block - 1) / rows_per_block) {}
};

// pick.get<C>(args...) for the usual channel counts C, else pick.get<0>(args...) (the count known
// at run time only). A fixed count makes the inner loop whole vectors: with a run-time count
// GCC peels iterations for alignment and, at 16 to 128 channels, never reaches its vector loop.
// Half types convert element by element anyway and keep the run-time count.
template <typename T, typename Pick, typename... Args>
auto for_channels(size_t C, Pick pick, Args... args) {
  if constexpr (!is_half_v<T>) {
    switch (C) {
      case 16:
        return pick.template get<16>(args...);
      case 32:
        return pick.template get<32>(args...);
      case 64:
        return pick.template get<64>(args...);
      case 128:
        return pick.template get<128>(args...);
      case 256:
        return pick.template get<256>(args...);
      case 512:
        return pick.template get<512>(args...);
      default:
        break;
    }
  }
  return pick.template get<0>(args...);
}

// The mean and M2 of each channel over rows [r0, r1) of x, in double (the saved mean is the
// double mean rounded once).
template <typename T, typename A, size_t kC>
SIMCLR_CPU_CLONES void block_moments(const T* __restrict x, size_t r0, size_t r1, size_t channels,
                                     double* __restrict mean, double* __restrict m2) {
  const size_t C = kC != 0 ? kC : channels;
  std::fill_n(mean, C, 0.0);
  std::fill_n(m2, C, 0.0);
  for (size_t i = r0 * C; i < r1 * C; i += C)
    for (size_t c = 0; c < C; ++c) mean[c] += static_cast<double>(cast_element<A>(x[i + c]));
  const double inv = 1.0 / static_cast<double>(r1 - r0);
  for (size_t c = 0; c < C; ++c) mean[c] *= inv;
  for (size_t i = r0 * C; i < r1 * C; i += C) {
    for (size_t c = 0; c < C; ++c) {
      const double d = static_cast<double>(cast_element<A>(x[i + c])) - mean[c];
      m2[c] += d * d;
    }
  }
}

template <typename T, typename A>
struct PickMoments {
  using Fn = void (*)(const T*, size_t, size_t, size_t, double*, double*);
  template <size_t kC>
  Fn get() const {
    return &block_moments<T, A, kC>;
  }
};

// The batch mean and M2 of every channel: per-block moments merged in block order.
template <typename T, typename A>
std::vector<bn::Moments<double>> batch_moments(const T* x, int64_t rows, int64_t channels) {
  const Blocks blocks(rows, channels);
  const auto C = static_cast<size_t>(channels);
  std::vector<double> partial(static_cast<size_t>(blocks.count) * 2 * C);
  const auto moments_fn = for_channels<T>(C, PickMoments<T, A>{});
  parallel_for(blocks.count, [&](int64_t b) {
    const int64_t r0 = b * blocks.rows_per_block;
    const int64_t r1 = std::min(rows, r0 + blocks.rows_per_block);
    double* mean = partial.data() + static_cast<size_t>(b) * 2 * C;
    moments_fn(x, static_cast<size_t>(r0), static_cast<size_t>(r1), C, mean, mean + C);
  });
  std::vector<bn::Moments<double>> total(C, {0.0, 0.0, 0.0});
  for (int64_t b = 0; b < blocks.count; ++b) {
    const double n = static_cast<double>(std::min(rows, (b + 1) * blocks.rows_per_block) -
                                         b * blocks.rows_per_block);
    const double* mean = partial.data() + static_cast<size_t>(b) * 2 * C;
    for (size_t c = 0; c < C; ++c) total[c] = bn::merge(total[c], {n, mean[c], mean[C + c]});
  }
  return total;
}

// y = bn::forward(...) for rows [r0, r1).
template <typename T, typename A, bool kResidual, bool kRelu, size_t kC>
SIMCLR_CPU_CLONES void normalize_rows(const T* __restrict x, const T* __restrict residual,
                                      size_t r0, size_t r1, size_t channels,
                                      const A* __restrict mean, const A* __restrict scale,
                                      const A* __restrict shift, T* __restrict y) {
  const size_t C = kC != 0 ? kC : channels;
  for (size_t i = r0 * C; i < r1 * C; i += C) {
    for (size_t c = 0; c < C; ++c) {
      const A res = kResidual ? cast_element<A>(residual[i + c]) : A(0);
      y[i + c] = cast_element<T>(
          bn::forward(cast_element<A>(x[i + c]), mean[c], scale[c], shift[c], res, kRelu));
    }
  }
}

template <typename T, typename A>
struct PickNormalize {
  using Fn = void (*)(const T*, const T*, size_t, size_t, size_t, const A*, const A*, const A*, T*);
  template <size_t kC>
  Fn get(bool residual, bool relu) const {
    Fn fn = &normalize_rows<T, A, false, false, kC>;
    if (residual && relu) fn = &normalize_rows<T, A, true, true, kC>;
    if (residual && !relu) fn = &normalize_rows<T, A, true, false, kC>;
    if (!residual && relu) fn = &normalize_rows<T, A, false, true, kC>;
    return fn;
  }
};

// y = bn::forward(...) for every element, split by blocks of rows.
template <typename T, typename A>
void normalize(const T* x, const T* residual, bool relu, int64_t rows, int64_t channels,
               const std::vector<A>& mean, const std::vector<A>& scale, const float* beta, T* y) {
  const Blocks blocks(rows, channels);
  const auto C = static_cast<size_t>(channels);
  std::vector<A> shift(C);
  for (size_t c = 0; c < C; ++c) shift[c] = static_cast<A>(beta[c]);
  const auto rows_fn = for_channels<T>(C, PickNormalize<T, A>{}, residual != nullptr, relu);
  parallel_for(blocks.count, [&](int64_t b) {
    const auto r0 = static_cast<size_t>(b * blocks.rows_per_block);
    const auto r1 = static_cast<size_t>(std::min(rows, (b + 1) * blocks.rows_per_block));
    rows_fn(x, residual, r0, r1, C, mean.data(), scale.data(), shift.data(), y);
  });
}

}  // namespace

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
    const auto C = static_cast<size_t>(channels);

    // The statistics that normalize: the batch's (training) or the running ones (eval).
    std::vector<A> mean(C), invstd(C), scale(C);
    if (training) {
      const std::vector<bn::Moments<double>> m = batch_moments<T, A>(x, rows, channels);
      for (size_t c = 0; c < C; ++c) {
        mean[c] = static_cast<A>(m[c].mean);
        invstd[c] = bn::invstd(static_cast<A>(m[c].m2 / static_cast<double>(rows)), A(eps));
        if (save_mean) save_mean[c] = static_cast<float>(mean[c]);
        if (save_invstd) save_invstd[c] = static_cast<float>(invstd[c]);
        // The running variance is the unbiased one, M2 / (rows - 1), as PyTorch's.
        if (running_mean)
          running_mean[c] =
              bn::running_update(running_mean[c], static_cast<float>(mean[c]), momentum);
        if (running_var) {
          const float unbiased = static_cast<float>(m[c].m2 / static_cast<double>(rows - 1));
          running_var[c] = bn::running_update(running_var[c], unbiased, momentum);
        }
      }
    } else {
      for (size_t c = 0; c < C; ++c) {
        mean[c] = static_cast<A>(running_mean[c]);
        invstd[c] = bn::invstd(static_cast<A>(running_var[c]), A(eps));
      }
    }
    for (size_t c = 0; c < C; ++c) scale[c] = static_cast<A>(gamma[c]) * invstd[c];
    normalize<T, A>(x, static_cast<const T*>(residual_ptr), relu, rows, channels, mean, scale, beta,
                    static_cast<T*>(y_ptr));
  });
}

namespace {

// The operands of the backward, typed.
template <typename T, typename A>
struct Backward {
  const T *x, *y, *grad_y;
  const A *mean, *invstd;
};

// g = grad_y through the ReLU mask.
template <typename T, typename A, bool kRelu>
inline A masked(const T* grad_y, const T* y, size_t i) {
  return bn::masked_grad(cast_element<A>(grad_y[i]), kRelu ? cast_element<A>(y[i]) : A(0), kRelu);
}

// sum(g) and sum(g * xhat) per channel over rows [r0, r1), xhat = (x - mean) * invstd; acc holds
// 2 * C scratch values. Restrict-qualified copies of the pointers let the loop vectorize.
template <typename T, typename A, bool kRelu, size_t kC>
SIMCLR_CPU_CLONES void block_sums(const Backward<T, A>& op, size_t r0, size_t r1, size_t channels,
                                  A* acc, double* sum_g, double* sum_g_xhat) {
  const size_t C = kC != 0 ? kC : channels;
  const T* __restrict x = op.x;
  const T* __restrict y = op.y;
  const T* __restrict grad_y = op.grad_y;
  const A* __restrict mean = op.mean;
  const A* __restrict invstd = op.invstd;
  A* __restrict sg = acc;
  A* __restrict sgx = acc + C;
  std::fill_n(acc, 2 * C, A(0));
  for (size_t i = r0 * C; i < r1 * C; i += C) {
    for (size_t c = 0; c < C; ++c) {
      const A g = masked<T, A, kRelu>(grad_y, y, i + c);
      sg[c] += g;
      sgx[c] += g * ((cast_element<A>(x[i + c]) - mean[c]) * invstd[c]);
    }
  }
  for (size_t c = 0; c < C; ++c) {
    sum_g[c] = static_cast<double>(sg[c]);
    sum_g_xhat[c] = static_cast<double>(sgx[c]);
  }
}

template <typename T, typename A>
struct PickSums {
  using Fn = void (*)(const Backward<T, A>&, size_t, size_t, size_t, A*, double*, double*);
  template <size_t kC>
  Fn get(bool relu) const {
    Fn fn = &block_sums<T, A, false, kC>;
    if (relu) fn = &block_sums<T, A, true, kC>;
    return fn;
  }
};

// The per-channel constants of the input gradient.
template <typename A>
struct GradConstants {
  std::vector<A> mean_g, mean_g_xhat, scale;
};

// grad_x and grad_residual (either may be null) for rows [r0, r1).
template <typename T, typename A, bool kRelu, bool kTraining, size_t kC>
SIMCLR_CPU_CLONES void grad_rows(const Backward<T, A>& op, const GradConstants<A>& k, size_t r0,
                                 size_t r1, size_t channels, T* grad_x_ptr, T* grad_residual_ptr) {
  const size_t C = kC != 0 ? kC : channels;
  const T* __restrict x = op.x;
  const T* __restrict y = op.y;
  const T* __restrict grad_y = op.grad_y;
  const A* __restrict mean = op.mean;
  const A* __restrict invstd = op.invstd;
  const A* __restrict mean_g = k.mean_g.data();
  const A* __restrict mean_g_xhat = k.mean_g_xhat.data();
  const A* __restrict scale = k.scale.data();
  T* __restrict grad_x = grad_x_ptr;
  T* __restrict grad_residual = grad_residual_ptr;
  for (size_t i = r0 * C; i < r1 * C; i += C) {
    if (grad_x) {
      for (size_t c = 0; c < C; ++c) {
        const A xhat = (cast_element<A>(x[i + c]) - mean[c]) * invstd[c];
        grad_x[i + c] =
            cast_element<T>(bn::grad_input(masked<T, A, kRelu>(grad_y, y, i + c), xhat, scale[c],
                                           mean_g[c], mean_g_xhat[c], kTraining));
      }
    }
    if (grad_residual) {
      for (size_t c = 0; c < C; ++c)
        grad_residual[i + c] = cast_element<T>(masked<T, A, kRelu>(grad_y, y, i + c));
    }
  }
}

template <typename T, typename A>
struct PickGrad {
  using Fn = void (*)(const Backward<T, A>&, const GradConstants<A>&, size_t, size_t, size_t, T*,
                      T*);
  template <size_t kC>
  Fn get(bool relu, bool training) const {
    Fn fn = &grad_rows<T, A, false, false, kC>;
    if (relu && training) fn = &grad_rows<T, A, true, true, kC>;
    if (relu && !training) fn = &grad_rows<T, A, true, false, kC>;
    if (!relu && training) fn = &grad_rows<T, A, false, true, kC>;
    return fn;
  }
};

}  // namespace

void batch_norm_backward(DType dtype, int64_t rows, int64_t channels, const void* x_ptr,
                         const void* y_ptr, const void* grad_y_ptr, const float* gamma,
                         const float* mean, const float* invstd, bool relu, bool training,
                         void* grad_x_ptr, float* grad_gamma, float* grad_beta,
                         void* grad_residual_ptr, Stream) {
  if (channels <= 0) return;
  dispatch_floating(dtype, "batch_norm_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    const auto C = static_cast<size_t>(channels);
    const std::vector<A> mean_a(mean, mean + C), invstd_a(invstd, invstd + C);
    const Backward<T, A> op{static_cast<const T*>(x_ptr), static_cast<const T*>(y_ptr),
                            static_cast<const T*>(grad_y_ptr), mean_a.data(), invstd_a.data()};
    const Blocks blocks(rows, channels);
    const auto block_rows = [&](int64_t b) {
      return std::pair<size_t, size_t>(
          static_cast<size_t>(b * blocks.rows_per_block),
          static_cast<size_t>(std::min(rows, (b + 1) * blocks.rows_per_block)));
    };

    // grad_beta = sum(g), grad_gamma = sum(g * xhat): per-block sums added in block order.
    std::vector<double> partial(static_cast<size_t>(blocks.count) * 2 * C);
    const auto sums_fn = for_channels<T>(C, PickSums<T, A>{}, relu);
    parallel_for(blocks.count, [&](int64_t b) {
      const auto [r0, r1] = block_rows(b);
      double* sums = partial.data() + static_cast<size_t>(b) * 2 * C;
      sums_fn(op, r0, r1, C, scratch<A>(2 * C), sums, sums + C);
    });
    std::vector<double> sum_g(C, 0.0), sum_g_xhat(C, 0.0);
    for (int64_t b = 0; b < blocks.count; ++b) {
      const double* sums = partial.data() + static_cast<size_t>(b) * 2 * C;
      for (size_t c = 0; c < C; ++c) {
        sum_g[c] += sums[c];
        sum_g_xhat[c] += sums[C + c];
      }
    }
    for (size_t c = 0; c < C; ++c) {
      if (grad_gamma) grad_gamma[c] = static_cast<float>(sum_g_xhat[c]);
      if (grad_beta) grad_beta[c] = static_cast<float>(sum_g[c]);
    }

    GradConstants<A> k{std::vector<A>(C), std::vector<A>(C), std::vector<A>(C)};
    for (size_t c = 0; c < C; ++c) {
      k.mean_g[c] = static_cast<A>(sum_g[c] / static_cast<double>(rows));
      k.mean_g_xhat[c] = static_cast<A>(sum_g_xhat[c] / static_cast<double>(rows));
      k.scale[c] = static_cast<A>(gamma[c]) * invstd_a[c];
    }
    const auto grad_fn = for_channels<T>(C, PickGrad<T, A>{}, relu, training);
    T* grad_x = static_cast<T*>(grad_x_ptr);
    T* grad_residual = static_cast<T*>(grad_residual_ptr);
    parallel_for(blocks.count, [&](int64_t b) {
      const auto [r0, r1] = block_rows(b);
      grad_fn(op, k, r0, r1, C, grad_x, grad_residual);
    });
  });
}

}  // namespace simclr::cpu
