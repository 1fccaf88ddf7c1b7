// conv2d on cuDNN 9's legacy convolution API, channels-last throughout: activations are NHWC
// tensor descriptors (CUDNN_TENSOR_NHWC, dimensions given as n, c, h, w) and the filters NHWC
// filter descriptors (k, c, r, s), which is exactly our [k, r, s, c] weight layout. Types: f32
// computes in f32 with CUDNN_FMA_MATH (no TF32, like the matmul), bf16 and f16 in f32 on tensor
// cores, f64 in f64. The scaling factors (alpha = 1, beta = 0: outputs are written, never read) are
// float, or double for f64.
//
// The algorithm is chosen once per (device, shape, dtype, direction, deterministic mode, operand
// alignment) and cached. cuDNN's heuristic (cudnnGet*Algorithm_v7: no trial runs, no scratch
// buffers) ranks the algorithms; the first whose status is success, which is deterministic when
// deterministic() is on, whose workspace fits kWorkspaceCap and which then runs is kept. An
// algorithm that cuDNN refuses at run time (a NOT_SUPPORTED status) is skipped. When every
// candidate is refused (NHWC in fp64 has few algorithms), the convolution runs the direct kernels
// of conv2d_direct.cuh instead: plain loops, one thread per output element, slow but exact and
// deterministic. The workspace comes from the device's caching allocator and goes back right after
// the launch; stream order keeps it from being reused before the convolution has run.
#include <cudnn.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

#include "core/allocator.h"
#include "core/determinism.h"
#include "kernels/backends.h"
#include "kernels/cuda/conv2d_direct.cuh"
#include "kernels/cuda/launch.cuh"

namespace simclr::cuda {

namespace {

constexpr size_t kWorkspaceCap = size_t{512} << 20;

enum class Direction : int { forward, backward_data, backward_filter };

const char* direction_name(Direction d) {
  switch (d) {
    case Direction::forward:
      return "conv2d_forward";
    case Direction::backward_data:
      return "conv2d_backward_data";
    default:
      return "conv2d_backward_filter";
  }
}

cudnnHandle_t handle_for(int device) {
  static std::mutex mutex;
  static std::vector<cudnnHandle_t> handles;
  std::lock_guard<std::mutex> lock(mutex);
  if (handles.size() <= static_cast<size_t>(device))
    handles.resize(static_cast<size_t>(device) + 1);
  cudnnHandle_t& h = handles[static_cast<size_t>(device)];
  if (!h) SIMCLR_CUDNN_CHECK(cudnnCreate(&h));  // the caller made `device` current
  return h;
}

template <typename D, cudnnStatus_t (*Create)(D*), cudnnStatus_t (*Destroy)(D)>
class Descriptor {
 public:
  Descriptor() { SIMCLR_CUDNN_CHECK(Create(&desc_)); }
  ~Descriptor() {
    if (desc_) Destroy(desc_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  D get() const { return desc_; }

 private:
  D desc_ = nullptr;
};

using TensorDescriptor =
    Descriptor<cudnnTensorDescriptor_t, cudnnCreateTensorDescriptor, cudnnDestroyTensorDescriptor>;
using FilterDescriptor =
    Descriptor<cudnnFilterDescriptor_t, cudnnCreateFilterDescriptor, cudnnDestroyFilterDescriptor>;
using ConvolutionDescriptor =
    Descriptor<cudnnConvolutionDescriptor_t, cudnnCreateConvolutionDescriptor,
               cudnnDestroyConvolutionDescriptor>;

struct Types {
  cudnnDataType_t data, compute;
  cudnnMathType_t math;
};

Types types_for(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return {CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT, CUDNN_FMA_MATH};
    case DType::f64:
      return {CUDNN_DATA_DOUBLE, CUDNN_DATA_DOUBLE, CUDNN_DEFAULT_MATH};
    case DType::bf16:
      return {CUDNN_DATA_BFLOAT16, CUDNN_DATA_FLOAT, CUDNN_TENSOR_OP_MATH};
    case DType::f16:
      return {CUDNN_DATA_HALF, CUDNN_DATA_FLOAT, CUDNN_TENSOR_OP_MATH};
    default:
      throw_unsupported_dtype(dtype, "conv2d", "a floating dtype (f32, f64, bf16, f16)");
  }
}

// cuDNN's 4-D descriptors take int sizes and compute int strides.
int as_int(int64_t v, const char* what, const ConvShape& g) {
  SIMCLR_CHECK(v <= INT_MAX, "conv2d: ", what, " (", v,
               ") exceeds the int range of cuDNN's 4-D descriptors; n=", g.n, " h=", g.h,
               " w=", g.w, " c=", g.c, " k=", g.k);
  return static_cast<int>(v);
}

struct ConvDescriptors {
  TensorDescriptor x, y;  // y is grad_y in the backward directions, x is grad_x for backward data
  FilterDescriptor w;
  ConvolutionDescriptor conv;

  ConvDescriptors(const ConvShape& g, const Types& t) {
    as_int(g.n * g.h * g.w * g.c, "the input's element count", g);
    as_int(g.n * g.p * g.q * g.k, "the output's element count", g);
    as_int(g.k * g.r * g.s * g.c, "the filter's element count", g);
    const int n = as_int(g.n, "n", g), c = as_int(g.c, "c", g), k = as_int(g.k, "k", g);
    SIMCLR_CUDNN_CHECK(cudnnSetTensor4dDescriptor(x.get(), CUDNN_TENSOR_NHWC, t.data, n, c,
                                                  as_int(g.h, "h", g), as_int(g.w, "w", g)));
    SIMCLR_CUDNN_CHECK(cudnnSetTensor4dDescriptor(y.get(), CUDNN_TENSOR_NHWC, t.data, n, k,
                                                  as_int(g.p, "p", g), as_int(g.q, "q", g)));
    SIMCLR_CUDNN_CHECK(cudnnSetFilter4dDescriptor(w.get(), t.data, CUDNN_TENSOR_NHWC, k, c,
                                                  as_int(g.r, "r", g), as_int(g.s, "s", g)));
    SIMCLR_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(
        conv.get(), as_int(g.pad_h, "pad_h", g), as_int(g.pad_w, "pad_w", g),
        as_int(g.stride_h, "stride_h", g), as_int(g.stride_w, "stride_w", g),
        as_int(g.dilation_h, "dilation_h", g), as_int(g.dilation_w, "dilation_w", g),
        CUDNN_CROSS_CORRELATION, t.compute));
    SIMCLR_CUDNN_CHECK(cudnnSetConvolutionMathType(conv.get(), t.math));
    // cuDNN and the op must agree on the output size.
    int on = 0, oc = 0, oh = 0, ow = 0;
    SIMCLR_CUDNN_CHECK(
        cudnnGetConvolution2dForwardOutputDim(conv.get(), x.get(), w.get(), &on, &oc, &oh, &ow));
    SIMCLR_CHECK(on == g.n && oc == g.k && oh == g.p && ow == g.q,
                 "conv2d: cuDNN computes an output of [n, c, h, w] = [", on, ", ", oc, ", ", oh,
                 ", ", ow, "] where [", g.n, ", ", g.k, ", ", g.p, ", ", g.q, "] was expected");
  }
};

bool not_supported(cudnnStatus_t status) {
  return CUDNN_STATUS_CATEGORY(status) == CUDNN_STATUS_NOT_SUPPORTED;
}

void check_status(cudnnStatus_t status, const char* call) {
  if (status != CUDNN_STATUS_SUCCESS)
    detail::throw_library_error("cuDNN", detail::status_message(status), call, __FILE__, __LINE__);
}

// What cudnnGet*Algorithm_v7 says of one algorithm.
struct Candidate {
  int algo;
  cudnnStatus_t status;
  cudnnDeterminism_t determinism;
  cudnnMathType_t math;
};

template <typename Perf>
std::vector<Candidate> candidates_of(const std::vector<Perf>& perf, int returned) {
  std::vector<Candidate> out;
  for (int i = 0; i < returned && i < static_cast<int>(perf.size()); ++i) {
    const Perf& p = perf[static_cast<size_t>(i)];
    out.push_back({static_cast<int>(p.algo), p.status, p.determinism, p.mathType});
  }
  return out;
}

// The heuristic's ranking, best first; empty when cuDNN supports no algorithm for the
// configuration at all.
std::vector<Candidate> heuristics(Direction d, cudnnHandle_t h, const ConvDescriptors& D) {
  int count = 0, returned = 0;
  cudnnStatus_t status = CUDNN_STATUS_SUCCESS;
  switch (d) {
    case Direction::forward: {
      SIMCLR_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &count));
      std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(static_cast<size_t>(std::max(count, 1)));
      status = cudnnGetConvolutionForwardAlgorithm_v7(h, D.x.get(), D.w.get(), D.conv.get(),
                                                      D.y.get(), count, &returned, perf.data());
      if (status == CUDNN_STATUS_SUCCESS) return candidates_of(perf, returned);
      break;
    }
    case Direction::backward_data: {
      SIMCLR_CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &count));
      std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(static_cast<size_t>(std::max(count, 1)));
      status = cudnnGetConvolutionBackwardDataAlgorithm_v7(
          h, D.w.get(), D.y.get(), D.conv.get(), D.x.get(), count, &returned, perf.data());
      if (status == CUDNN_STATUS_SUCCESS) return candidates_of(perf, returned);
      break;
    }
    case Direction::backward_filter: {
      SIMCLR_CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &count));
      std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(
          static_cast<size_t>(std::max(count, 1)));
      status = cudnnGetConvolutionBackwardFilterAlgorithm_v7(
          h, D.x.get(), D.y.get(), D.conv.get(), D.w.get(), count, &returned, perf.data());
      if (status == CUDNN_STATUS_SUCCESS) return candidates_of(perf, returned);
      break;
    }
  }
  if (!not_supported(status)) check_status(status, "cudnnGetConvolution*Algorithm_v7");
  return {};
}

// Algorithms that accumulate with atomics, excluded in deterministic mode even if a heuristic
// result were to claim otherwise.
bool known_nondeterministic(Direction d, int algo) {
  if (d == Direction::backward_data) return algo == CUDNN_CONVOLUTION_BWD_DATA_ALGO_0;
  if (d == Direction::backward_filter)
    return algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0 ||
           algo == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3;
  return false;
}

cudnnStatus_t workspace_size(Direction d, cudnnHandle_t h, const ConvDescriptors& D, int algo,
                             size_t* bytes) {
  switch (d) {
    case Direction::forward:
      return cudnnGetConvolutionForwardWorkspaceSize(
          h, D.x.get(), D.w.get(), D.conv.get(), D.y.get(),
          static_cast<cudnnConvolutionFwdAlgo_t>(algo), bytes);
    case Direction::backward_data:
      return cudnnGetConvolutionBackwardDataWorkspaceSize(
          h, D.w.get(), D.y.get(), D.conv.get(), D.x.get(),
          static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), bytes);
    default:
      return cudnnGetConvolutionBackwardFilterWorkspaceSize(
          h, D.x.get(), D.y.get(), D.conv.get(), D.w.get(),
          static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), bytes);
  }
}

// One convolution call: the operands in the order of kernel_decls.inc (forward: x, w -> y;
// backward data: grad_y, w -> grad_x; backward filter: x, grad_y -> grad_w).
struct Call {
  Direction direction;
  DType dtype;
  const ConvShape& shape;
  const void* a;
  const void* b;
  void* out;
  Stream stream;
  cudnnHandle_t handle;
  const ConvDescriptors& desc;
};

// The chosen algorithm; algo < 0 selects the direct kernels.
struct Algorithm {
  int algo = -1;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  size_t workspace = 0;
};

// Runs `alg`; returns cuDNN's status (the launch is asynchronous: NOT_SUPPORTED comes back here,
// before anything ran).
cudnnStatus_t execute(const Call& call, const Algorithm& alg) {
  const ConvDescriptors& D = call.desc;
  SIMCLR_CUDNN_CHECK(cudnnSetConvolutionMathType(D.conv.get(), alg.math));
  const float one = 1.0f, zero = 0.0f;
  const double one64 = 1.0, zero64 = 0.0;
  const bool f64 = call.dtype == DType::f64;
  const void* alpha = f64 ? static_cast<const void*>(&one64) : static_cast<const void*>(&one);
  const void* beta = f64 ? static_cast<const void*>(&zero64) : static_cast<const void*>(&zero);
  const Workspace scratch(alg.workspace, call.stream);
  void* workspace = scratch.as<void>();
  cudnnStatus_t status = CUDNN_STATUS_SUCCESS;
  switch (call.direction) {
    case Direction::forward:
      status =
          cudnnConvolutionForward(call.handle, alpha, D.x.get(), call.a, D.w.get(), call.b,
                                  D.conv.get(), static_cast<cudnnConvolutionFwdAlgo_t>(alg.algo),
                                  workspace, alg.workspace, beta, D.y.get(), call.out);
      break;
    case Direction::backward_data:
      status = cudnnConvolutionBackwardData(call.handle, alpha, D.w.get(), call.b, D.y.get(),
                                            call.a, D.conv.get(),
                                            static_cast<cudnnConvolutionBwdDataAlgo_t>(alg.algo),
                                            workspace, alg.workspace, beta, D.x.get(), call.out);
      break;
    case Direction::backward_filter:
      status = cudnnConvolutionBackwardFilter(
          call.handle, alpha, D.x.get(), call.a, D.y.get(), call.b, D.conv.get(),
          static_cast<cudnnConvolutionBwdFilterAlgo_t>(alg.algo), workspace, alg.workspace, beta,
          D.w.get(), call.out);
      break;
  }
  return status;
}

// ---- the direct kernels (conv2d_direct.cuh): the fallback when cuDNN runs no algorithm ----

void run_direct(const Call& call) {
  const ConvShape& g = call.shape;
  dispatch_floating(call.dtype, direction_name(call.direction), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const cudaStream_t s = raw(call.stream);
    switch (call.direction) {
      case Direction::forward:
        direct_forward<T><<<grid_for(g.n * g.p * g.q * g.k), kThreads, 0, s>>>(
            g, static_cast<const T*>(call.a), static_cast<const T*>(call.b),
            static_cast<T*>(call.out));
        break;
      case Direction::backward_data:
        direct_backward_data<T><<<grid_for(g.n * g.h * g.w * g.c), kThreads, 0, s>>>(
            g, static_cast<const T*>(call.a), static_cast<const T*>(call.b),
            static_cast<T*>(call.out));
        break;
      case Direction::backward_filter:
        direct_backward_filter<T><<<grid_for(g.k * g.r * g.s * g.c), kThreads, 0, s>>>(
            g, static_cast<const T*>(call.a), static_cast<const T*>(call.b),
            static_cast<T*>(call.out));
        break;
    }
  });
  SIMCLR_CUDA_CHECK(cudaGetLastError());
}

// ---- the algorithm cache ----

using Key = std::array<int64_t, 20>;

std::mutex cache_mutex;
std::map<Key, Algorithm>& cache() {
  static std::map<Key, Algorithm> algorithms;
  return algorithms;
}

// The largest power of two (up to 256) dividing all three addresses: algorithms with vector loads
// may refuse operands at an odd offset, so the choice depends on it.
int64_t alignment_of(const void* a, const void* b, const void* c) {
  const uintptr_t bits = reinterpret_cast<uintptr_t>(a) | reinterpret_cast<uintptr_t>(b) |
                         reinterpret_cast<uintptr_t>(c);
  int64_t alignment = 256;
  while (alignment > 1 && bits % static_cast<uintptr_t>(alignment) != 0) alignment /= 2;
  return alignment;
}

Key key_of(const Call& call, bool det) {
  const ConvShape& g = call.shape;
  return Key{g.n,
             g.h,
             g.w,
             g.c,
             g.k,
             g.r,
             g.s,
             g.p,
             g.q,
             g.stride_h,
             g.stride_w,
             g.pad_h,
             g.pad_w,
             g.dilation_h,
             g.dilation_w,
             static_cast<int64_t>(call.dtype),
             static_cast<int64_t>(call.direction),
             det ? 1 : 0,
             call.stream.device.index,
             alignment_of(call.a, call.b, call.out)};
}

bool find_cached(const Key& key, Algorithm* out) {
  std::lock_guard<std::mutex> lock(cache_mutex);
  const auto it = cache().find(key);
  if (it == cache().end()) return false;
  *out = it->second;
  return true;
}

// Runs the first algorithm of cuDNN's ranking that qualifies and returns it; algo < 0 (the direct
// kernels) when none ran, and then nothing has run.
Algorithm run_first_candidate(const Call& call, bool det) {
  const Direction direction = call.direction;
  for (const Candidate& c : heuristics(direction, call.handle, call.desc)) {
    if (c.status != CUDNN_STATUS_SUCCESS) continue;
    if (det && (c.determinism != CUDNN_DETERMINISTIC || known_nondeterministic(direction, c.algo)))
      continue;
    // f32 stays in full precision: cuDNN may rank an algorithm with another math type first.
    Algorithm alg{c.algo, call.dtype == DType::f32 ? CUDNN_FMA_MATH : c.math, 0};
    SIMCLR_CUDNN_CHECK(cudnnSetConvolutionMathType(call.desc.conv.get(), alg.math));
    if (workspace_size(direction, call.handle, call.desc, alg.algo, &alg.workspace) !=
        CUDNN_STATUS_SUCCESS)
      continue;
    if (alg.workspace > kWorkspaceCap) continue;
    const cudnnStatus_t status = execute(call, alg);
    if (status == CUDNN_STATUS_SUCCESS) return alg;
    if (!not_supported(status)) check_status(status, direction_name(direction));
  }
  return Algorithm{};
}

void run(Direction direction, DType dtype, const ConvShape& g, const void* a, const void* b,
         void* out, Stream stream) {
  const Types types = types_for(dtype);
  const bool det = deterministic();
  LaunchGuard guard(stream);
  const cudnnHandle_t handle = handle_for(stream.device.index);
  SIMCLR_CUDNN_CHECK(cudnnSetStream(handle, raw(stream)));
  const ConvDescriptors desc(g, types);
  const Call call{direction, dtype, g, a, b, out, stream, handle, desc};
  const Key key = key_of(call, det);

  Algorithm cached;
  if (find_cached(key, &cached)) {
    if (cached.algo < 0) return run_direct(call);
    const cudnnStatus_t status = execute(call, cached);
    if (status == CUDNN_STATUS_SUCCESS) return;
    if (!not_supported(status)) check_status(status, direction_name(direction));
    // Refused although it ran before with this key: choose again below.
  }

  const Algorithm chosen = run_first_candidate(call, det);
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    cache()[key] = chosen;
  }
  if (chosen.algo < 0) run_direct(call);
}

}  // namespace

void conv2d_forward(DType dtype, const ConvShape& shape, const void* x, const void* w, void* y,
                    Stream stream) {
  run(Direction::forward, dtype, shape, x, w, y, stream);
}

void conv2d_backward_data(DType dtype, const ConvShape& shape, const void* grad_y, const void* w,
                          void* grad_x, Stream stream) {
  run(Direction::backward_data, dtype, shape, grad_y, w, grad_x, stream);
}

void conv2d_backward_filter(DType dtype, const ConvShape& shape, const void* x, const void* grad_y,
                            void* grad_w, Stream stream) {
  run(Direction::backward_filter, dtype, shape, x, grad_y, grad_w, stream);
}

}  // namespace simclr::cuda
