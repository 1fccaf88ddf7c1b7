// Batch norm over a [rows, channels] view (NHWC: rows = n * h * w, channels contiguous).
//
// Every kernel runs on blocks of kThreads = tx * ty threads: tx threads across groups of V
// channels (V = 4 with vector loads when the channels and pointers allow, else 1), ty threads
// across rows, so that a warp reads whole rows contiguously. The grid is (channel blocks,
// row blocks); each thread walks its rows with a grid stride.
//
// Training forward, deterministic and without atomics:
//   1. stats: each thread folds its rows into (count, mean, M2) per channel (Welford); the block
//      merges its ty threads in a fixed tree (Chan) and writes one partial per row block to a
//      workspace from the caching allocator, laid out [channel][row block];
//   2. finalize: one block per channel merges the partials in a fixed order (strided per thread,
//      then a fixed tree), saves mean and invstd, updates the running statistics;
//   3. apply: y = (x - mean) * gamma * invstd + beta (+ residual) (then ReLU).
// Eval runs the apply kernel alone on the running statistics. Backward is the same three steps:
// partial sums of g and g * xhat per row block, a fixed-order final sum (grad_beta, grad_gamma),
// then grad_x and grad_residual elementwise. The vector loads and the fixed-order block merges are
// in batch_norm_reduce.cuh.
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <type_traits>

#include "core/allocator.h"
#include "kernels/backends.h"
#include "kernels/batch_norm_math.h"
#include "kernels/cuda/batch_norm_reduce.cuh"
#include "kernels/cuda/launch.cuh"

namespace simclr::cuda {

namespace {

constexpr int kVec = 4;

// ---- training forward ----

template <typename T, int V>
__global__ void __launch_bounds__(kThreads)
    stats_kernel(int64_t rows, int64_t channels, const T* __restrict__ x,
                 acc_type<T>* __restrict__ part_n, acc_type<T>* __restrict__ part_mean,
                 acc_type<T>* __restrict__ part_m2) {
  using A = acc_type<T>;
  __shared__ A s_n[kThreads];
  __shared__ A s_mean[kThreads * V];
  __shared__ A s_m2[kThreads * V];
  const int tid = static_cast<int>(threadIdx.y * blockDim.x + threadIdx.x);
  const int64_t c0 = first_channel<V>(channels);

  A n = 0, mean[V], m2[V];
#pragma unroll
  for (int k = 0; k < V; ++k) mean[k] = m2[k] = A(0);
  if (c0 >= 0) {
    const int64_t step = row_step();
#pragma unroll 4
    for (int64_t r = first_row(); r < rows; r += step) {
      A v[V];
      load<V>(x, r * channels + c0, v);
      n += A(1);
      const A rn = A(1) / n;
#pragma unroll
      for (int k = 0; k < V; ++k) {
        const A d = v[k] - mean[k];
        mean[k] += d * rn;
        m2[k] += d * (v[k] - mean[k]);
      }
    }
  }

  merge_block_rows<V>(tid, n, mean, m2, s_n, s_mean, s_m2);
  if (threadIdx.y == 0 && c0 >= 0) {
    const int64_t blocks = gridDim.y;
#pragma unroll
    for (int k = 0; k < V; ++k) {
      const int64_t at = (c0 + k) * blocks + blockIdx.y;
      part_n[at] = s_n[tid];
      part_mean[at] = s_mean[tid * V + k];
      part_m2[at] = s_m2[tid * V + k];
    }
  }
}

// One block (kThreads threads) per channel, grid-stride over the channels.
template <typename A>
__global__ void __launch_bounds__(kThreads)
    finalize_stats_kernel(int64_t rows, int64_t channels, int64_t blocks,
                          const A* __restrict__ part_n, const A* __restrict__ part_mean,
                          const A* __restrict__ part_m2, float momentum, float eps,
                          float* __restrict__ running_mean, float* __restrict__ running_var,
                          float* __restrict__ save_mean, float* __restrict__ save_invstd,
                          A* __restrict__ batch_mean, A* __restrict__ batch_invstd) {
  __shared__ A s_n[kThreads], s_mean[kThreads], s_m2[kThreads];
  const int t = static_cast<int>(threadIdx.x);
  for (int64_t c = blockIdx.x; c < channels; c += gridDim.x) {
    bn::Moments<A> m{A(0), A(0), A(0)};
    for (int64_t b = t; b < blocks; b += blockDim.x) {
      const int64_t at = c * blocks + b;
      m = bn::merge(m, bn::Moments<A>{part_n[at], part_mean[at], part_m2[at]});
    }
    merge_block(t, m, s_n, s_mean, s_m2);
    if (t == 0) {
      const A mean = s_mean[0];
      const A invstd = bn::invstd(s_m2[0] / static_cast<A>(rows), A(eps));
      batch_mean[c] = mean;
      batch_invstd[c] = invstd;
      if (save_mean) save_mean[c] = static_cast<float>(mean);
      if (save_invstd) save_invstd[c] = static_cast<float>(invstd);
      // The running variance is the unbiased one, M2 / (rows - 1), as PyTorch's.
      if (running_mean)
        running_mean[c] = bn::running_update(running_mean[c], static_cast<float>(mean), momentum);
      if (running_var)
        running_var[c] = bn::running_update(
            running_var[c], static_cast<float>(s_m2[0] / static_cast<A>(rows - 1)), momentum);
    }
    __syncthreads();  // shared memory is reused by the next channel
  }
}

// y from the batch statistics (batch_mean not null) or the running ones.
template <typename T, int V>
__global__ void __launch_bounds__(kThreads)
    apply_kernel(int64_t rows, int64_t channels, const T* __restrict__ x,
                 const T* __restrict__ residual, T* __restrict__ y, const float* __restrict__ gamma,
                 const float* __restrict__ beta, const acc_type<T>* __restrict__ batch_mean,
                 const acc_type<T>* __restrict__ batch_invstd,
                 const float* __restrict__ running_mean, const float* __restrict__ running_var,
                 float eps, bool relu) {
  using A = acc_type<T>;
  const int64_t c0 = first_channel<V>(channels);
  if (c0 < 0) return;
  A mean[V], scale[V], shift[V];
#pragma unroll
  for (int k = 0; k < V; ++k) {
    const int64_t c = c0 + k;
    const A invstd =
        batch_mean ? batch_invstd[c] : bn::invstd(static_cast<A>(running_var[c]), A(eps));
    mean[k] = batch_mean ? batch_mean[c] : static_cast<A>(running_mean[c]);
    scale[k] = static_cast<A>(gamma[c]) * invstd;
    shift[k] = static_cast<A>(beta[c]);
  }
  const int64_t step = row_step();
#pragma unroll 2
  for (int64_t r = first_row(); r < rows; r += step) {
    const int64_t i = r * channels + c0;
    A v[V], res[V], out[V];
    load<V>(x, i, v);
    load_or_zero<V>(residual != nullptr, residual, i, res);
#pragma unroll
    for (int k = 0; k < V; ++k)
      out[k] = bn::forward(v[k], mean[k], scale[k], shift[k], res[k], relu);
    store<V>(y, i, out);
  }
}

// ---- backward ----

// Partial sums of g (the masked gradient) and g * xhat per channel and row block.
template <typename T, int V>
__global__ void __launch_bounds__(kThreads)
    backward_reduce_kernel(int64_t rows, int64_t channels, const T* __restrict__ x,
                           const T* __restrict__ y, const T* __restrict__ grad_y,
                           const float* __restrict__ mean, const float* __restrict__ invstd,
                           bool relu, acc_type<T>* __restrict__ part_g,
                           acc_type<T>* __restrict__ part_g_xhat) {
  using A = acc_type<T>;
  __shared__ A s_g[kThreads * V];
  __shared__ A s_gx[kThreads * V];
  const int tid = static_cast<int>(threadIdx.y * blockDim.x + threadIdx.x);
  const int64_t c0 = first_channel<V>(channels);

  A sum_g[V], sum_gx[V];
#pragma unroll
  for (int k = 0; k < V; ++k) sum_g[k] = sum_gx[k] = A(0);
  if (c0 >= 0) {
    A m[V], is[V];
#pragma unroll
    for (int k = 0; k < V; ++k) {
      m[k] = static_cast<A>(mean[c0 + k]);
      is[k] = static_cast<A>(invstd[c0 + k]);
    }
    const int64_t step = row_step();
#pragma unroll 4
    for (int64_t r = first_row(); r < rows; r += step) {
      const int64_t i = r * channels + c0;
      A xv[V], gy[V], yv[V];
      load<V>(x, i, xv);
      load<V>(grad_y, i, gy);
      load_or_zero<V>(relu, y, i, yv);
#pragma unroll
      for (int k = 0; k < V; ++k) {
        const A g = bn::masked_grad(gy[k], yv[k], relu);
        sum_g[k] += g;
        sum_gx[k] += g * ((xv[k] - m[k]) * is[k]);
      }
    }
  }

  sum_block_rows<V>(tid, sum_g, sum_gx, s_g, s_gx);
  if (threadIdx.y == 0 && c0 >= 0) {
    const int64_t blocks = gridDim.y;
#pragma unroll
    for (int k = 0; k < V; ++k) {
      const int64_t at = (c0 + k) * blocks + blockIdx.y;
      part_g[at] = s_g[tid * V + k];
      part_g_xhat[at] = s_gx[tid * V + k];
    }
  }
}

// One block per channel: the fixed-order totals, into grad_beta / grad_gamma and the workspace.
template <typename A>
__global__ void __launch_bounds__(kThreads)
    finalize_sums_kernel(int64_t channels, int64_t blocks, const A* __restrict__ part_g,
                         const A* __restrict__ part_g_xhat, A* __restrict__ total_g,
                         A* __restrict__ total_g_xhat, float* __restrict__ grad_gamma,
                         float* __restrict__ grad_beta) {
  for (int64_t c = blockIdx.x; c < channels; c += gridDim.x) {
    A g = 0, gx = 0;
    for (int64_t b = threadIdx.x; b < blocks; b += blockDim.x) {
      g += part_g[c * blocks + b];
      gx += part_g_xhat[c * blocks + b];
    }
    g = block_reduce(g, Sum<A>{});
    gx = block_reduce(gx, Sum<A>{});
    if (threadIdx.x == 0) {
      total_g[c] = g;
      total_g_xhat[c] = gx;
      if (grad_beta) grad_beta[c] = static_cast<float>(g);
      if (grad_gamma) grad_gamma[c] = static_cast<float>(gx);
    }
  }
}

// grad_x and grad_residual; total_g / total_g_xhat are read in training only.
template <typename T, int V>
__global__ void __launch_bounds__(kThreads)
    backward_apply_kernel(int64_t rows, int64_t channels, const T* __restrict__ x,
                          const T* __restrict__ y, const T* __restrict__ grad_y,
                          const float* __restrict__ gamma, const float* __restrict__ mean,
                          const float* __restrict__ invstd, bool relu, bool training,
                          const acc_type<T>* __restrict__ total_g,
                          const acc_type<T>* __restrict__ total_g_xhat, T* __restrict__ grad_x,
                          T* __restrict__ grad_residual) {
  using A = acc_type<T>;
  const int64_t c0 = first_channel<V>(channels);
  if (c0 < 0) return;
  A m[V], is[V], scale[V], mean_g[V], mean_gx[V];
#pragma unroll
  for (int k = 0; k < V; ++k) {
    const int64_t c = c0 + k;
    m[k] = static_cast<A>(mean[c]);
    is[k] = static_cast<A>(invstd[c]);
    scale[k] = static_cast<A>(gamma[c]) * is[k];
    mean_g[k] = training ? total_g[c] / static_cast<A>(rows) : A(0);
    mean_gx[k] = training ? total_g_xhat[c] / static_cast<A>(rows) : A(0);
  }
  const int64_t step = row_step();
#pragma unroll 2
  for (int64_t r = first_row(); r < rows; r += step) {
    const int64_t i = r * channels + c0;
    A xv[V], gy[V], yv[V], g[V], gx[V];
    load<V>(x, i, xv);
    load<V>(grad_y, i, gy);
    load_or_zero<V>(relu, y, i, yv);
#pragma unroll
    for (int k = 0; k < V; ++k) {
      g[k] = bn::masked_grad(gy[k], yv[k], relu);
      gx[k] =
          bn::grad_input(g[k], (xv[k] - m[k]) * is[k], scale[k], mean_g[k], mean_gx[k], training);
    }
    if (grad_x) store<V>(grad_x, i, gx);
    if (grad_residual) store<V>(grad_residual, i, g);
  }
}

// ---- launch planning ----

bool aligned(const void* p, size_t bytes) {
  return p == nullptr || reinterpret_cast<uintptr_t>(p) % bytes == 0;
}

struct Plan {
  int vec = 1;
  dim3 block, grid;             // grid.y: row blocks
  unsigned channel_blocks = 1;  // blocks of the per-channel finalize kernels
};

Plan make_plan(int64_t rows, int64_t channels, size_t element_bytes,
               std::initializer_list<const void*> pointers) {
  Plan plan;
  bool vector = channels % kVec == 0;
  for (const void* p : pointers) vector = vector && aligned(p, element_bytes * kVec);
  plan.vec = vector ? kVec : 1;
  const int64_t groups = channels / plan.vec;  // exact: vec divides channels
  int tx = 1;
  while (tx < 32 && tx < groups) tx *= 2;
  const int ty = kThreads / tx;
  const int64_t channel_tiles = (groups + tx - 1) / tx;
  SIMCLR_CHECK(channel_tiles <= std::numeric_limits<int32_t>::max(), "batch_norm: ", channels,
               " channels are too many for one grid");
  const int64_t row_tiles = (rows + ty - 1) / ty;
  int device = 0, sms = 0;
  SIMCLR_CUDA_CHECK(cudaGetDevice(&device));
  SIMCLR_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  // About eight resident blocks per multiprocessor in all; at least one row block.
  const int64_t wanted = std::max<int64_t>(1, int64_t{sms} * (2048 / kThreads) / channel_tiles);
  plan.block = dim3(static_cast<unsigned>(tx), static_cast<unsigned>(ty));
  plan.grid =
      dim3(static_cast<unsigned>(channel_tiles),
           static_cast<unsigned>(std::clamp<int64_t>(std::min(row_tiles, wanted), 1, 65535)));
  plan.channel_blocks = static_cast<unsigned>(std::min<int64_t>(channels, int64_t{1} << 20));
  return plan;
}

template <int V, typename F>
void with_vec(int vec, F&& f) {
  if (vec == V) {
    f(std::integral_constant<int, V>{});
  } else {
    f(std::integral_constant<int, 1>{});
  }
}

}  // namespace

void batch_norm_forward(DType dtype, int64_t rows, int64_t channels, const void* x_ptr,
                        const float* gamma, const float* beta, const void* residual_ptr, bool relu,
                        bool training, float momentum, float eps, float* running_mean,
                        float* running_var, float* save_mean, float* save_invstd, void* y_ptr,
                        Stream stream) {
  if (channels <= 0 || rows <= 0) return;
  dispatch_floating(dtype, "batch_norm_forward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    const T* x = static_cast<const T*>(x_ptr);
    const T* residual = static_cast<const T*>(residual_ptr);
    T* y = static_cast<T*>(y_ptr);
    LaunchGuard guard(stream);
    const Plan plan = make_plan(rows, channels, sizeof(T), {x, residual, y});
    const cudaStream_t s = raw(stream);
    if (!training) {
      with_vec<kVec>(plan.vec, [&](auto v) {
        apply_kernel<T, decltype(v)::value>
            <<<plan.grid, plan.block, 0, s>>>(rows, channels, x, residual, y, gamma, beta, nullptr,
                                              nullptr, running_mean, running_var, eps, relu);
      });
      SIMCLR_CUDA_CHECK(cudaGetLastError());
      return;
    }
    // Workspace: the partials [3][channels][row blocks], then the batch mean and invstd.
    const int64_t blocks = plan.grid.y;
    const int64_t parts = channels * blocks;
    Workspace ws(static_cast<size_t>(3 * parts + 2 * channels) * sizeof(A), stream);
    A* part_n = ws.as<A>();
    A* part_mean = part_n + parts;
    A* part_m2 = part_mean + parts;
    A* batch_mean = part_m2 + parts;
    A* batch_invstd = batch_mean + channels;
    with_vec<kVec>(plan.vec, [&](auto v) {
      stats_kernel<T, decltype(v)::value>
          <<<plan.grid, plan.block, 0, s>>>(rows, channels, x, part_n, part_mean, part_m2);
    });
    SIMCLR_CUDA_CHECK(cudaGetLastError());
    finalize_stats_kernel<A><<<plan.channel_blocks, kThreads, 0, s>>>(
        rows, channels, blocks, part_n, part_mean, part_m2, momentum, eps, running_mean,
        running_var, save_mean, save_invstd, batch_mean, batch_invstd);
    SIMCLR_CUDA_CHECK(cudaGetLastError());
    with_vec<kVec>(plan.vec, [&](auto v) {
      apply_kernel<T, decltype(v)::value>
          <<<plan.grid, plan.block, 0, s>>>(rows, channels, x, residual, y, gamma, beta, batch_mean,
                                            batch_invstd, nullptr, nullptr, eps, relu);
    });
    SIMCLR_CUDA_CHECK(cudaGetLastError());
  });
}

void batch_norm_backward(DType dtype, int64_t rows, int64_t channels, const void* x_ptr,
                         const void* y_ptr, const void* grad_y_ptr, const float* gamma,
                         const float* mean, const float* invstd, bool relu, bool training,
                         void* grad_x_ptr, float* grad_gamma, float* grad_beta,
                         void* grad_residual_ptr, Stream stream) {
  if (channels <= 0) return;
  LaunchGuard guard(stream);
  const cudaStream_t s = raw(stream);
  if (rows <= 0) {
    const size_t bytes = static_cast<size_t>(channels) * sizeof(float);
    if (grad_gamma) SIMCLR_CUDA_CHECK(cudaMemsetAsync(grad_gamma, 0, bytes, s));
    if (grad_beta) SIMCLR_CUDA_CHECK(cudaMemsetAsync(grad_beta, 0, bytes, s));
    return;
  }
  dispatch_floating(dtype, "batch_norm_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    const T* x = static_cast<const T*>(x_ptr);
    const T* y = relu ? static_cast<const T*>(y_ptr) : nullptr;
    const T* grad_y = static_cast<const T*>(grad_y_ptr);
    T* grad_x = static_cast<T*>(grad_x_ptr);
    T* grad_residual = static_cast<T*>(grad_residual_ptr);
    const Plan plan = make_plan(rows, channels, sizeof(T), {x, y, grad_y, grad_x, grad_residual});
    const bool sums = training || grad_gamma || grad_beta;
    // Workspace: the partials [2][channels][row blocks], then the totals of g and g * xhat.
    const int64_t blocks = plan.grid.y;
    const int64_t parts = channels * blocks;
    Workspace ws(static_cast<size_t>(2 * parts + 2 * channels) * sizeof(A), stream);
    A* part_g = ws.as<A>();
    A* part_g_xhat = part_g + parts;
    A* total_g = part_g_xhat + parts;
    A* total_g_xhat = total_g + channels;
    if (sums) {
      with_vec<kVec>(plan.vec, [&](auto v) {
        backward_reduce_kernel<T, decltype(v)::value><<<plan.grid, plan.block, 0, s>>>(
            rows, channels, x, y, grad_y, mean, invstd, relu, part_g, part_g_xhat);
      });
      SIMCLR_CUDA_CHECK(cudaGetLastError());
      finalize_sums_kernel<A><<<plan.channel_blocks, kThreads, 0, s>>>(
          channels, blocks, part_g, part_g_xhat, total_g, total_g_xhat, grad_gamma, grad_beta);
      SIMCLR_CUDA_CHECK(cudaGetLastError());
    }
    if (grad_x || grad_residual) {
      with_vec<kVec>(plan.vec, [&](auto v) {
        backward_apply_kernel<T, decltype(v)::value><<<plan.grid, plan.block, 0, s>>>(
            rows, channels, x, y, grad_y, gamma, mean, invstd, relu, training, total_g,
            total_g_xhat, grad_x, grad_residual);
      });
      SIMCLR_CUDA_CHECK(cudaGetLastError());
    }
  });
}

}  // namespace simclr::cuda
