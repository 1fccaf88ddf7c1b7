// The fused optimizer update on CUDA: one launch over all tensors (PyTorch's multi-tensor apply).
// The table of tensors (pointers, sizes, decay flags and each tensor's first chunk) travels as a
// __grid_constant__ kernel argument, so nothing is copied or allocated from the host and the
// launch can be captured in a CUDA graph. Each block takes one chunk of kChunk elements of one
// tensor, found by a binary search over the chunk offsets. Lists longer than kMaxTensors (which a
// ResNet-50 with its head does not reach) take one launch per kMaxTensors tensors.
//
// LARS needs each tensor's norms before any of its elements moves, so it runs two launches: the
// first writes one (sum w^2, sum g^2) partial per chunk (a fixed tree in the block), the second
// has every block of a tensor fold that tensor's partials in the same fixed order, so all its
// blocks agree on the trust ratio bit for bit and no float atomics are needed.
#include <cstdint>

#include "kernels/backends.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/optimizer_math.h"

namespace simclr::cuda {

namespace {

constexpr int kMaxTensors = 512;           // keeps the table under CUDA's 32 KB of kernel arguments
constexpr int64_t kChunk = kThreads * 32;  // elements per block
constexpr int64_t kMaxChunks = int64_t{1} << 30;

struct Table {
  int32_t count;
  int32_t chunk_begin[kMaxTensors + 1];  // tensor k owns chunks [chunk_begin[k], chunk_begin[k+1])
  OptimizerTensor tensors[kMaxTensors];
};
static_assert(sizeof(OptimizerScalars) + sizeof(Table) + sizeof(void*) <= 32764,
              "the kernel arguments exceed CUDA's limit of 32764 bytes");

struct Sum {
  __device__ float operator()(float a, float b) const { return a + b; }
};

// The tensor whose chunks hold `chunk`: the last k with chunk_begin[k] <= chunk (tensors are
// non-empty, so that one is unique).
__device__ int tensor_of(const Table& table, int32_t chunk) {
  int lo = 0, hi = table.count;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (table.chunk_begin[mid] <= chunk) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

__global__ void __launch_bounds__(kThreads)
    lars_partials_kernel(const __grid_constant__ OptimizerScalars s,
                         const __grid_constant__ Table table, float2* __restrict__ partials) {
  const int32_t chunk = static_cast<int32_t>(blockIdx.x);
  const int k = tensor_of(table, chunk);
  const OptimizerTensor t = table.tensors[k];
  if (!t.decay) return;  // the update never reads the partials of tensors that do not adapt
  const int64_t begin = (chunk - table.chunk_begin[k]) * kChunk;
  const int64_t end = begin + kChunk < t.numel ? begin + kChunk : t.numel;
  float w_sq = 0.0f, g_sq = 0.0f;
  for (int64_t i = begin + threadIdx.x; i < end; i += kThreads) {
    const float w = t.param[i];
    const float g = optim::decayed_grad(t.grad[i], w, s.weight_decay, true);
    w_sq += w * w;
    g_sq += g * g;
  }
  w_sq = block_reduce(w_sq, Sum{});
  g_sq = block_reduce(g_sq, Sum{});
  if (threadIdx.x == 0) partials[chunk] = make_float2(w_sq, g_sq);
}

__global__ void __launch_bounds__(kThreads)
    update_kernel(const __grid_constant__ OptimizerScalars s, const __grid_constant__ Table table,
                  const float2* __restrict__ partials) {
  const int32_t chunk = static_cast<int32_t>(blockIdx.x);
  const int k = tensor_of(table, chunk);
  const OptimizerTensor t = table.tensors[k];
  float scaled_lr = s.lr;
  if (s.rule == OptimizerRule::lars && t.decay) {
    float w_sq = 0.0f, g_sq = 0.0f;
    for (int32_t c = table.chunk_begin[k] + static_cast<int32_t>(threadIdx.x);
         c < table.chunk_begin[k + 1]; c += kThreads) {
      w_sq += partials[c].x;
      g_sq += partials[c].y;
    }
    w_sq = block_reduce(w_sq, Sum{});
    g_sq = block_reduce(g_sq, Sum{});
    scaled_lr = optim::lars_scaled_lr(s, true, w_sq, g_sq);
  }
  const int64_t begin = (chunk - table.chunk_begin[k]) * kChunk;
  const int64_t end = begin + kChunk < t.numel ? begin + kChunk : t.numel;
#pragma unroll 4
  for (int64_t i = begin + threadIdx.x; i < end; i += kThreads)
    optim::update_element(s, t, scaled_lr, i);
}

// Fills `table` with the non-empty tensors from tensors[first] on (at most kMaxTensors of them);
// returns the index after the last one taken.
int64_t fill_table(const OptimizerTensor* tensors, int64_t first, int64_t count, Table& table) {
  table.count = 0;
  int64_t chunks = 0;
  int64_t k = first;
  for (; k < count && table.count < kMaxTensors; ++k) {
    if (tensors[k].numel == 0) continue;
    const int64_t n = (tensors[k].numel + kChunk - 1) / kChunk;
    if (table.count > 0 && chunks + n > kMaxChunks) break;
    table.chunk_begin[table.count] = static_cast<int32_t>(chunks);
    table.tensors[table.count++] = tensors[k];
    chunks += n;
  }
  table.chunk_begin[table.count] = static_cast<int32_t>(chunks);
  return k;
}

void launch(const OptimizerScalars& s, const Table& table, Stream stream) {
  const int32_t chunks = table.chunk_begin[table.count];
  const bool lars = s.rule == OptimizerRule::lars;
  Workspace partials(lars ? static_cast<size_t>(chunks) * sizeof(float2) : 0, stream);
  if (lars) {
    lars_partials_kernel<<<static_cast<unsigned>(chunks), kThreads, 0, raw(stream)>>>(
        s, table, partials.as<float2>());
    SIMCLR_CUDA_CHECK(cudaGetLastError());
  }
  update_kernel<<<static_cast<unsigned>(chunks), kThreads, 0, raw(stream)>>>(s, table,
                                                                             partials.as<float2>());
  SIMCLR_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void optimizer_step(const OptimizerScalars& scalars, const OptimizerTensor* tensors, int64_t count,
                    Stream stream) {
  LaunchGuard guard(stream);
  Table table;
  for (int64_t first = 0; first < count;) {
    first = fill_table(tensors, first, count, table);
    if (table.count > 0) launch(scalars, table, stream);
  }
}

}  // namespace simclr::cuda
