// The SimCLR augmentation on CUDA, fused (kernels/augment.h). Two paths, chosen per batch:
// - One pass, when a view fits in a block's shared memory (fp32, twice that when the batch blurs;
//   augment_in_shared_memory): one launch, one block per view. The block draws the view's
//   parameters, reads the crop from the uint8 source once (bilinear, flip) into shared memory,
//   applies the jitter steps ahead of contrast, reduces the mean luminance contrast blends with
//   (a fixed-order block reduction), applies the remaining steps and grayscale, blurs separably
//   from one shared buffer into another, and writes each output element once, normalized.
// - Otherwise (224 px views), three launches:
//   1. prepare: one block per view draws its parameters (one thread, kernels/augment.h) and, when
//      the view's jitter includes contrast, reduces the mean luminance of the image as it is just
//      before contrast (crop, flip and the jitter steps ahead of it, recomputed per pixel) in a
//      fixed tree order.
//   2. pixels: one thread per output pixel: bilinear crop from the uint8 source, flip, jitter,
//      grayscale, then normalize and cast into the output; or, when the batch blurs, the fp32
//      pixel into a workspace.
//   3. blur (only when the batch blurs): tiles of 32 x 8 output pixels; the horizontal pass of the
//      tile's rows plus the kernel's halo into shared memory, the vertical pass from there, then
//      normalize and cast. Views without blur are copied through.
// The per-pixel math is kernels/augment_math.h, as in the CPU reference, in the same order.
#include "kernels/augment.h"

#include <algorithm>

#include "core/allocator.h"
#include "kernels/augment_math.h"
#include "kernels/backends.h"
#include "kernels/cast.h"
#include "kernels/cuda/launch.cuh"

namespace simclr::cuda {

namespace {

namespace am = augment_math;

constexpr int kTileW = 32, kTileH = 8;  // kTileW * kTileH == kThreads

struct Geometry {
  int64_t n, rows;
  int32_t h, w, c, oh, ow;
};

struct Plus {
  __device__ float operator()(float a, float b) const { return a + b; }
};

__global__ void prepare_kernel(AugmentPolicy policy, Geometry g, const uint8_t* images,
                               const int64_t* indices, uint64_t seed, uint64_t epoch, bool draw,
                               AugmentParams* params, float* means) {
  __shared__ AugmentParams shared_params;
  const int64_t pixels = static_cast<int64_t>(g.oh) * g.ow;
  for (int64_t r = blockIdx.x; r < g.rows; r += gridDim.x) {
    if (threadIdx.x == 0) {
      if (draw) {
        shared_params = draw_augment_params(policy, g.h, g.w, seed, epoch,
                                            static_cast<uint64_t>(indices[r % g.n]),
                                            static_cast<uint32_t>(r / g.n));
        params[r] = shared_params;
      } else {
        shared_params = params[r];
      }
    }
    __syncthreads();
    const AugmentParams p = shared_params;
    const int position = am::contrast_position(p);
    if (position >= 0) {  // uniform over the block
      const uint8_t* src = images + (r % g.n) * g.h * g.w * g.c;
      float sum = 0.0f;
      for (int64_t i = threadIdx.x; i < pixels; i += blockDim.x) {
        float px[3];
        am::resized_crop_pixel(src, g.w, g.c, p, g.oh, g.ow, static_cast<int32_t>(i / g.ow),
                               static_cast<int32_t>(i % g.ow), p.flip, px);
        for (int k = 0; k < position; ++k) am::jitter_step(p.order[k], p, px, g.c, 0.0f);
        sum += am::luminance(px, g.c);
      }
      sum = block_reduce(sum, Plus{});
      if (threadIdx.x == 0) means[r] = sum / static_cast<float>(pixels);
    }
    __syncthreads();
  }
}

template <typename T>
__global__ void pixels_kernel(AugmentPolicy policy, Geometry g, const uint8_t* images,
                              const AugmentParams* params, const float* means, T* out,
                              float* scratch) {
  const int64_t pixels = static_cast<int64_t>(g.oh) * g.ow;
  const int64_t total = g.rows * pixels;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += step) {
    const int64_t r = i / pixels, pixel = i % pixels;
    const AugmentParams& p = params[r];
    const uint8_t* src = images + (r % g.n) * g.h * g.w * g.c;
    float px[3];
    am::resized_crop_pixel(src, g.w, g.c, p, g.oh, g.ow, static_cast<int32_t>(pixel / g.ow),
                           static_cast<int32_t>(pixel % g.ow), p.flip, px);
    if (p.jitter) {
      const float mean = am::contrast_position(p) >= 0 ? means[r] : 0.0f;
      for (int k = 0; k < 4; ++k) am::jitter_step(p.order[k], p, px, g.c, mean);
    }
    if (p.grayscale) am::to_grayscale(px, g.c);
    if (scratch) {
      for (int ch = 0; ch < g.c; ++ch) scratch[i * g.c + ch] = px[ch];
    } else {
      for (int ch = 0; ch < g.c; ++ch)
        out[i * g.c + ch] = cast_element<T>(am::normalize(policy, px[ch], ch));
    }
  }
}

template <typename T>
__global__ void blur_kernel(AugmentPolicy policy, Geometry g, int32_t k,
                            const AugmentParams* params, const float* scratch, T* out) {
  extern __shared__ float horizontal[];  // [kTileH + k - 1][kTileW][c]
  __shared__ float weights[kAugmentMaxBlurKernel];
  const int32_t radius = k / 2;
  const int32_t tx = static_cast<int32_t>(threadIdx.x % kTileW);
  const int32_t ty = static_cast<int32_t>(threadIdx.x / kTileW);
  const int32_t x0 = static_cast<int32_t>(blockIdx.x) * kTileW;
  const int32_t y0 = static_cast<int32_t>(blockIdx.y) * kTileH;
  const int32_t x = x0 + tx, y = y0 + ty;
  const int c = g.c;
  for (int64_t r = blockIdx.z; r < g.rows; r += gridDim.z) {
    const float* img = scratch + r * g.oh * g.ow * c;
    T* o = out + r * g.oh * g.ow * c;
    const AugmentParams& p = params[r];
    if (!p.blur) {  // uniform over the block
      if (x < g.ow && y < g.oh) {
        const int64_t at = (static_cast<int64_t>(y) * g.ow + x) * c;
        for (int ch = 0; ch < c; ++ch)
          o[at + ch] = cast_element<T>(am::normalize(policy, img[at + ch], ch));
      }
      continue;
    }
    if (threadIdx.x == 0) am::gaussian_kernel1d(k, p.sigma, weights);
    __syncthreads();
    const int32_t band = kTileH + 2 * radius;
    for (int32_t i = static_cast<int32_t>(threadIdx.x); i < band * kTileW;
         i += static_cast<int32_t>(blockDim.x)) {
      const int32_t row = i / kTileW, col = i % kTileW;
      const int32_t sy = am::reflect(y0 - radius + row, g.oh);
      const int32_t sx = x0 + col;
      if (sx >= g.ow) continue;
      const float* line = img + static_cast<int64_t>(sy) * g.ow * c;
      for (int ch = 0; ch < c; ++ch) {
        float acc = 0.0f;
        for (int32_t j = 0; j < k; ++j)
          acc +=
              weights[j] * line[static_cast<int64_t>(am::reflect(sx - radius + j, g.ow)) * c + ch];
        horizontal[(row * kTileW + col) * c + ch] = acc;
      }
    }
    __syncthreads();
    if (x < g.ow && y < g.oh) {
      const int64_t at = (static_cast<int64_t>(y) * g.ow + x) * c;
      for (int ch = 0; ch < c; ++ch) {
        float acc = 0.0f;
        for (int32_t i = 0; i < k; ++i)
          acc += weights[i] * horizontal[((ty + i) * kTileW + tx) * c + ch];
        o[at + ch] = cast_element<T>(am::normalize(policy, acc, ch));
      }
    }
    __syncthreads();
  }
}

// The parameters of view r: drawn (given == nullptr) or copied; thread 0 writes, all read after
// the barrier.
__device__ AugmentParams view_params(const AugmentPolicy& policy, const Geometry& g,
                                     const int64_t* indices, uint64_t seed, uint64_t epoch,
                                     const AugmentParams* given, int64_t r,
                                     AugmentParams& shared_params) {
  if (threadIdx.x == 0)
    shared_params = given ? given[r]
                          : draw_augment_params(policy, g.h, g.w, seed, epoch,
                                                static_cast<uint64_t>(indices[r % g.n]),
                                                static_cast<uint32_t>(r / g.n));
  __syncthreads();
  return shared_params;
}

// img (the view, [oh, ow, c] fp32 in shared memory) after crop, flip, jitter and grayscale; the
// source is read once. Each thread keeps its pixels across the steps; the contrast mean is
// reduced over the pixels as they are just before contrast, as prepare_kernel does.
__device__ void color_view(const Geometry& g, const uint8_t* src, const AugmentParams& p,
                           float* img) {
  const int64_t pixels = static_cast<int64_t>(g.oh) * g.ow;
  const int position = am::contrast_position(p);  // uniform over the block
  float sum = 0.0f;
  for (int64_t i = threadIdx.x; i < pixels; i += blockDim.x) {
    float* px = img + i * g.c;
    am::resized_crop_pixel(src, g.w, g.c, p, g.oh, g.ow, static_cast<int32_t>(i / g.ow),
                           static_cast<int32_t>(i % g.ow), p.flip, px);
    for (int k = 0; k < position; ++k) am::jitter_step(p.order[k], p, px, g.c, 0.0f);
    if (position >= 0) sum += am::luminance(px, g.c);
  }
  const float mean = position >= 0 ? block_reduce(sum, Plus{}) / static_cast<float>(pixels) : 0.0f;
  for (int64_t i = threadIdx.x; i < pixels; i += blockDim.x) {
    float* px = img + i * g.c;
    if (p.jitter)
      for (int k = position < 0 ? 0 : position; k < 4; ++k)
        am::jitter_step(p.order[k], p, px, g.c, mean);
    if (p.grayscale) am::to_grayscale(px, g.c);
  }
  __syncthreads();
}

// The separable blur of img: the horizontal pass into tmp, the vertical pass from tmp into out
// (normalized), reflect padding as the CPU reference.
template <typename T>
__device__ void blur_view(const AugmentPolicy& policy, const Geometry& g, int32_t k,
                          const float* weights, const float* img, float* tmp, T* out) {
  const int32_t radius = k / 2;
  const int64_t pixels = static_cast<int64_t>(g.oh) * g.ow;
  for (int64_t i = threadIdx.x; i < pixels; i += blockDim.x) {
    const int32_t y = static_cast<int32_t>(i / g.ow), x = static_cast<int32_t>(i % g.ow);
    const float* line = img + static_cast<int64_t>(y) * g.ow * g.c;
    for (int ch = 0; ch < g.c; ++ch) {
      float acc = 0.0f;
      for (int32_t j = 0; j < k; ++j)
        acc +=
            weights[j] * line[static_cast<int64_t>(am::reflect(x - radius + j, g.ow)) * g.c + ch];
      tmp[i * g.c + ch] = acc;
    }
  }
  __syncthreads();
  for (int64_t i = threadIdx.x; i < pixels; i += blockDim.x) {
    const int32_t y = static_cast<int32_t>(i / g.ow), x = static_cast<int32_t>(i % g.ow);
    for (int ch = 0; ch < g.c; ++ch) {
      float acc = 0.0f;
      for (int32_t j = 0; j < k; ++j)
        acc += weights[j] *
               tmp[(static_cast<int64_t>(am::reflect(y - radius + j, g.oh)) * g.ow + x) * g.c + ch];
      out[i * g.c + ch] = cast_element<T>(am::normalize(policy, acc, ch));
    }
  }
}

// The one-pass path: one block per view, the view in dynamic shared memory (img, then tmp when the
// batch blurs).
template <typename T>
__global__ void __launch_bounds__(kThreads)
    view_kernel(AugmentPolicy policy, Geometry g, int32_t k, const uint8_t* images,
                const int64_t* indices, uint64_t seed, uint64_t epoch, const AugmentParams* given,
                T* out) {
  extern __shared__ float view[];
  __shared__ AugmentParams shared_params;
  __shared__ float weights[kAugmentMaxBlurKernel];
  const int64_t size = static_cast<int64_t>(g.oh) * g.ow * g.c;
  for (int64_t r = blockIdx.x; r < g.rows; r += gridDim.x) {
    const AugmentParams p = view_params(policy, g, indices, seed, epoch, given, r, shared_params);
    if (p.blur && threadIdx.x == 0) am::gaussian_kernel1d(k, p.sigma, weights);
    color_view(g, images + (r % g.n) * g.h * g.w * g.c, p, view);
    T* o = out + r * size;
    if (p.blur) {  // uniform over the block
      blur_view(policy, g, k, weights, view, view + size, o);
    } else {
      for (int64_t i = threadIdx.x; i < size; i += blockDim.x)
        o[i] = cast_element<T>(am::normalize(policy, view[i], static_cast<int>(i % g.c)));
    }
    __syncthreads();  // the view, its parameters and weights are rewritten by the next one
  }
}

size_t round_up(size_t bytes) {
  return (bytes + 255) / 256 * 256;
}

// The dynamic shared memory of one view in view_kernel: img, and tmp when the batch blurs.
size_t view_bytes(const AugmentPolicy& policy, int64_t c, bool blur) {
  return sizeof(float) * static_cast<size_t>(policy.out_h) * static_cast<size_t>(policy.out_w) *
         static_cast<size_t>(c) * (blur ? 2 : 1);
}

// The dynamic shared memory a view_kernel block may take on the current device: within the
// opt-in per-block limit, and leaving room for two blocks per SM, so that one block's source reads
// overlap another's arithmetic.
int64_t shared_budget(int device) {
  int optin = 0, per_sm = 0, reserved = 0;
  SIMCLR_CUDA_CHECK(
      cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  SIMCLR_CUDA_CHECK(
      cudaDeviceGetAttribute(&per_sm, cudaDevAttrMaxSharedMemoryPerMultiprocessor, device));
  SIMCLR_CUDA_CHECK(
      cudaDeviceGetAttribute(&reserved, cudaDevAttrReservedSharedMemoryPerBlock, device));
  cudaFuncAttributes attr{};
  SIMCLR_CUDA_CHECK(cudaFuncGetAttributes(&attr, view_kernel<float>));  // the same for every T
  const int64_t fixed = static_cast<int64_t>(attr.sharedSizeBytes);
  return std::min<int64_t>(optin - fixed, per_sm / 2 - reserved - fixed);
}

// The one launch of the one-pass path.
void run_one_pass(DType out_dtype, const AugmentPolicy& policy, const Geometry& g,
                  const uint8_t* images, const int64_t* indices, uint64_t seed, uint64_t epoch,
                  const AugmentParams* host_params, bool blur, void* out, Stream stream) {
  LaunchGuard guard(stream);
  Workspace workspace(host_params ? sizeof(AugmentParams) * static_cast<size_t>(g.rows) : 0,
                      stream);
  auto* params = workspace.as<AugmentParams>();
  if (host_params)
    SIMCLR_CUDA_CHECK(cudaMemcpyAsync(params, host_params, sizeof(AugmentParams) * g.rows,
                                      cudaMemcpyHostToDevice, raw(stream)));
  const size_t bytes = view_bytes(policy, g.c, blur);
  const unsigned blocks = static_cast<unsigned>(std::min<int64_t>(g.rows, 1 << 20));
  dispatch_floating(out_dtype, "augment", [&](auto tag) {
    using T = typename decltype(tag)::type;
    SIMCLR_CUDA_CHECK(cudaFuncSetAttribute(
        view_kernel<T>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
    view_kernel<T><<<blocks, kThreads, bytes, raw(stream)>>>(policy, g, augment_blur_kernel(policy),
                                                             images, indices, seed, epoch, params,
                                                             static_cast<T*>(out));
    SIMCLR_CUDA_CHECK(cudaGetLastError());
  });
}

// The three launches; `host_params` (given parameters) or indices + seed + epoch (drawn).
void run_three_pass(DType out_dtype, const AugmentPolicy& policy, const Geometry& g,
                    const uint8_t* images, const int64_t* indices, uint64_t seed, uint64_t epoch,
                    const AugmentParams* host_params, bool blur, void* out, Stream stream) {
  const int64_t pixels = static_cast<int64_t>(g.oh) * g.ow;
  const size_t params_bytes = round_up(sizeof(AugmentParams) * static_cast<size_t>(g.rows));
  const size_t means_bytes = round_up(sizeof(float) * static_cast<size_t>(g.rows));
  const size_t scratch_bytes =
      blur ? sizeof(float) * static_cast<size_t>(g.rows * pixels * g.c) : 0;
  LaunchGuard guard(stream);
  Workspace workspace(params_bytes + means_bytes + scratch_bytes, stream);
  auto* params = reinterpret_cast<AugmentParams*>(workspace.as());
  auto* means = reinterpret_cast<float*>(workspace.as() + params_bytes);
  float* scratch =
      blur ? reinterpret_cast<float*>(workspace.as() + params_bytes + means_bytes) : nullptr;
  if (host_params)
    SIMCLR_CUDA_CHECK(cudaMemcpyAsync(params, host_params, sizeof(AugmentParams) * g.rows,
                                      cudaMemcpyHostToDevice, raw(stream)));
  const unsigned view_blocks = static_cast<unsigned>(std::min<int64_t>(g.rows, 1 << 20));
  prepare_kernel<<<view_blocks, kThreads, 0, raw(stream)>>>(policy, g, images, indices, seed, epoch,
                                                            host_params == nullptr, params, means);
  SIMCLR_CUDA_CHECK(cudaGetLastError());
  dispatch_floating(out_dtype, "augment", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* o = static_cast<T*>(out);
    pixels_kernel<T><<<grid_for(g.rows * pixels), kThreads, 0, raw(stream)>>>(
        policy, g, images, params, means, o, scratch);
    SIMCLR_CUDA_CHECK(cudaGetLastError());
    if (!blur) return;
    const int32_t k = augment_blur_kernel(policy);
    const size_t shared = sizeof(float) * static_cast<size_t>((kTileH + k - 1) * kTileW * g.c);
    const dim3 grid(static_cast<unsigned>((g.ow + kTileW - 1) / kTileW),
                    static_cast<unsigned>((g.oh + kTileH - 1) / kTileH),
                    static_cast<unsigned>(std::min<int64_t>(g.rows, 65535)));
    blur_kernel<T><<<grid, kThreads, shared, raw(stream)>>>(policy, g, k, params, scratch, o);
    SIMCLR_CUDA_CHECK(cudaGetLastError());
  });
}

// Whether the batch blurs: the policy's switch, or for given parameters any view's.
bool batch_blurs(const AugmentPolicy& policy, const AugmentParams* host_params, int64_t rows) {
  if (!host_params) return policy.blur;
  return std::any_of(host_params, host_params + rows,
                     [](const AugmentParams& p) { return p.blur; });
}

void run(DType out_dtype, const AugmentPolicy& policy, const Geometry& g, const uint8_t* images,
         const int64_t* indices, uint64_t seed, uint64_t epoch, const AugmentParams* host_params,
         void* out, Stream stream) {
  if (g.rows == 0) return;
  const bool blur = batch_blurs(policy, host_params, g.rows);
  if (augment_in_shared_memory(policy, g.c, blur, stream.device.index)) {
    run_one_pass(out_dtype, policy, g, images, indices, seed, epoch, host_params, blur, out,
                 stream);
  } else {
    run_three_pass(out_dtype, policy, g, images, indices, seed, epoch, host_params, blur, out,
                   stream);
  }
}

Geometry geometry(const AugmentPolicy& policy, int64_t n, int64_t rows, int64_t h, int64_t w,
                  int64_t c) {
  return Geometry{n,
                  rows,
                  static_cast<int32_t>(h),
                  static_cast<int32_t>(w),
                  static_cast<int32_t>(c),
                  policy.out_h,
                  policy.out_w};
}

}  // namespace

bool augment_in_shared_memory(const AugmentPolicy& policy, int64_t c, bool blur, int device) {
  const DeviceGuard guard(device);
  return static_cast<int64_t>(view_bytes(policy, c, blur)) <= shared_budget(device);
}

void augment(DType out_dtype, const AugmentPolicy& policy, int64_t n, int64_t h, int64_t w,
             int64_t c, const uint8_t* images, const int64_t* indices, uint64_t seed,
             uint64_t epoch, void* out, Stream stream) {
  run(out_dtype, policy, geometry(policy, n, 2 * n, h, w, c), images, indices, seed, epoch, nullptr,
      out, stream);
}

void augment_given(DType out_dtype, const AugmentPolicy& policy, int64_t n, int64_t rows, int64_t h,
                   int64_t w, int64_t c, const uint8_t* images, const AugmentParams* params,
                   void* out, Stream stream) {
  run(out_dtype, policy, geometry(policy, n, rows, h, w, c), images, nullptr, 0, 0, params, out,
      stream);
}

}  // namespace simclr::cuda
