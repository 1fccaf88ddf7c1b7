// Device-side helpers of the batch norm kernels (batch_norm.cu, their only includer): vector loads
// and stores of V channels, a thread's channels and rows in the (channel blocks, row blocks) grid,
// and the fixed-order block merges that keep the statistics independent of timing.
#pragma once

#include <cstdint>

#include "kernels/batch_norm_math.h"
#include "kernels/cast.h"
#include "kernels/cuda/launch.cuh"

namespace simclr::cuda {

template <typename T, int N>
struct alignas(sizeof(T) * N) Pack {
  T v[N];
};

template <int V, typename T, typename A>
__device__ __forceinline__ void load(const T* __restrict__ p, int64_t i, A (&out)[V]) {
  if constexpr (V == 1) {
    out[0] = cast_element<A>(p[i]);
  } else {
    const Pack<T, V> pack = *reinterpret_cast<const Pack<T, V>*>(p + i);
#pragma unroll
    for (int k = 0; k < V; ++k) out[k] = cast_element<A>(pack.v[k]);
  }
}

// load, or zeros when the optional operand is absent (`present` false).
template <int V, typename T, typename A>
__device__ __forceinline__ void load_or_zero(bool present, const T* __restrict__ p, int64_t i,
                                             A (&out)[V]) {
  if (present) {
    load<V>(p, i, out);
  } else {
#pragma unroll
    for (int k = 0; k < V; ++k) out[k] = A(0);
  }
}

template <int V, typename T, typename A>
__device__ __forceinline__ void store(T* __restrict__ p, int64_t i, const A (&in)[V]) {
  if constexpr (V == 1) {
    p[i] = cast_element<T>(in[0]);
  } else {
    Pack<T, V> pack;
#pragma unroll
    for (int k = 0; k < V; ++k) pack.v[k] = cast_element<T>(in[k]);
    *reinterpret_cast<Pack<T, V>*>(p + i) = pack;
  }
}

// The thread's first channel, or -1 when its channel group lies past the last channel.
template <int V>
__device__ __forceinline__ int64_t first_channel(int64_t channels) {
  const int64_t c0 = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) * V;
  return c0 < channels ? c0 : -1;
}

__device__ __forceinline__ int64_t first_row() {
  return static_cast<int64_t>(blockIdx.y) * blockDim.y + threadIdx.y;
}

__device__ __forceinline__ int64_t row_step() {
  return static_cast<int64_t>(gridDim.y) * blockDim.y;
}

// Merges the (count, mean, M2) of the block's ty row threads of each channel in a fixed tree:
// step s merges row thread ty + s into ty for ty < s, so every entry is written by its owner only.
// The row-0 threads end with their channels' block moments in s_n[tid], s_mean[tid * V + k] and
// s_m2[tid * V + k]; each array holds one entry per thread (times V for the channel values).
template <int V, typename A>
__device__ __forceinline__ void merge_block_rows(int tid, A n, const A (&mean)[V], const A (&m2)[V],
                                                 A* s_n, A* s_mean, A* s_m2) {
  s_n[tid] = n;
#pragma unroll
  for (int k = 0; k < V; ++k) {
    s_mean[tid * V + k] = mean[k];
    s_m2[tid * V + k] = m2[k];
  }
  __syncthreads();
  for (int s = static_cast<int>(blockDim.y) / 2; s > 0; s >>= 1) {
    if (static_cast<int>(threadIdx.y) < s) {
      const int other = tid + s * static_cast<int>(blockDim.x);
      const A na = s_n[tid], nb = s_n[other];
#pragma unroll
      for (int k = 0; k < V; ++k) {
        const bn::Moments<A> merged =
            bn::merge(bn::Moments<A>{na, s_mean[tid * V + k], s_m2[tid * V + k]},
                      bn::Moments<A>{nb, s_mean[other * V + k], s_m2[other * V + k]});
        s_mean[tid * V + k] = merged.mean;
        s_m2[tid * V + k] = merged.m2;
      }
      s_n[tid] = na + nb;
    }
    __syncthreads();
  }
}

// The same fixed tree as merge_block_rows for plain sums of two values per channel.
template <int V, typename A>
__device__ __forceinline__ void sum_block_rows(int tid, const A (&a)[V], const A (&b)[V], A* s_a,
                                               A* s_b) {
#pragma unroll
  for (int k = 0; k < V; ++k) {
    s_a[tid * V + k] = a[k];
    s_b[tid * V + k] = b[k];
  }
  __syncthreads();
  for (int s = static_cast<int>(blockDim.y) / 2; s > 0; s >>= 1) {
    if (static_cast<int>(threadIdx.y) < s) {
      const int other = tid + s * static_cast<int>(blockDim.x);
#pragma unroll
      for (int k = 0; k < V; ++k) {
        s_a[tid * V + k] += s_a[other * V + k];
        s_b[tid * V + k] += s_b[other * V + k];
      }
    }
    __syncthreads();
  }
}

// Merges one set of moments per thread of a one-dimensional block of kThreads threads in a fixed
// tree; the block's total ends in s_n[0], s_mean[0] and s_m2[0] (kThreads entries each).
template <typename A>
__device__ __forceinline__ void merge_block(int t, const bn::Moments<A>& m, A* s_n, A* s_mean,
                                            A* s_m2) {
  s_n[t] = m.n;
  s_mean[t] = m.mean;
  s_m2[t] = m.m2;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if (t < s) {
      const bn::Moments<A> merged =
          bn::merge(bn::Moments<A>{s_n[t], s_mean[t], s_m2[t]},
                    bn::Moments<A>{s_n[t + s], s_mean[t + s], s_m2[t + s]});
      s_n[t] = merged.n;
      s_mean[t] = merged.mean;
      s_m2[t] = merged.m2;
    }
    __syncthreads();
  }
}

template <typename A>
struct Sum {
  __device__ A operator()(A a, A b) const { return a + b; }
};

}  // namespace simclr::cuda
