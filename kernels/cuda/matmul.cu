// matmul on cuBLASLt. cuBLASLt is column-major; a row-major matrix is its transpose seen
// column-major, so C = op(A) op(B) (row-major) is computed as C^T = op(B)^T op(A)^T: the operands
// swap places and keep their transpose flags. bf16 and f16 multiply with fp32 accumulation; f32
// computes in full fp32 (no TF32), f64 in fp64.
#include <cublasLt.h>

#include <mutex>
#include <utility>
#include <vector>

#include "core/allocator.h"
#include "kernels/backends.h"
#include "kernels/cuda/launch.cuh"

namespace simclr::cuda {

namespace {

constexpr size_t kWorkspaceBytes = size_t{32} << 20;

cublasLtHandle_t handle_for(int device) {
  static std::mutex mutex;
  static std::vector<cublasLtHandle_t> handles;
  std::lock_guard<std::mutex> lock(mutex);
  if (handles.size() <= static_cast<size_t>(device))
    handles.resize(static_cast<size_t>(device) + 1);
  cublasLtHandle_t& h = handles[static_cast<size_t>(device)];
  if (!h) SIMCLR_CUBLAS_CHECK(cublasLtCreate(&h));
  return h;
}

template <typename Desc, typename Destroy>
struct Owned {
  Desc desc = nullptr;
  Destroy destroy;
  ~Owned() {
    if (desc) destroy(desc);
  }
};

struct Types {
  cudaDataType_t data;
  cublasComputeType_t compute;
  cudaDataType_t scale;
};

Types types_for(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return {CUDA_R_32F, CUBLAS_COMPUTE_32F, CUDA_R_32F};
    case DType::f64:
      return {CUDA_R_64F, CUBLAS_COMPUTE_64F, CUDA_R_64F};
    case DType::bf16:
      return {CUDA_R_16BF, CUBLAS_COMPUTE_32F, CUDA_R_32F};
    case DType::f16:
      return {CUDA_R_16F, CUBLAS_COMPUTE_32F, CUDA_R_32F};
    default:
      throw_unsupported_dtype(dtype, "matmul", "a floating dtype");
  }
}

using LayoutHandle = Owned<cublasLtMatrixLayout_t, cublasStatus_t (*)(cublasLtMatrixLayout_t)>;

// A column-major layout of `rows` x `cols` with leading dimension ld, batched with `stride`.
void make_layout(LayoutHandle& l, cudaDataType_t type, int64_t rows, int64_t cols, int64_t ld,
                 int64_t batch, int64_t stride) {
  l.destroy = cublasLtMatrixLayoutDestroy;
  SIMCLR_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&l.desc, type, static_cast<uint64_t>(rows),
                                                 static_cast<uint64_t>(cols), ld));
  const int32_t count = static_cast<int32_t>(batch);
  SIMCLR_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(l.desc, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT,
                                                       &count, sizeof count));
  SIMCLR_CUBLAS_CHECK(cublasLtMatrixLayoutSetAttribute(
      l.desc, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof stride));
}

// The largest power of two (up to 256) dividing the address of every matrix of the batch:
// cuBLASLt's heuristic assumes 256-byte aligned operands unless told otherwise, and views at an
// offset, or batches with odd strides, are not.
uint32_t alignment_of(const void* p, int64_t batch, int64_t stride, size_t element_bytes) {
  const uintptr_t address = reinterpret_cast<uintptr_t>(p);
  const uintptr_t step = batch > 1 ? static_cast<uintptr_t>(stride) * element_bytes : 0;
  uint32_t a = 256;
  while (a > 1 && (address % a != 0 || step % a != 0)) a /= 2;
  return a;
}

__global__ void add_bias_f64(double* c, int64_t m, int64_t n, int64_t ldc, int64_t stride_c,
                             int64_t batch, const double* bias) {
  const int64_t total = batch * m * n;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += step) {
    const int64_t col = i % n, row = (i / n) % m, b = i / (m * n);
    c[b * stride_c + row * ldc + col] += bias[col];
  }
}

using OpHandle = Owned<cublasLtMatmulDesc_t, cublasStatus_t (*)(cublasLtMatmulDesc_t)>;
using PreferenceHandle =
    Owned<cublasLtMatmulPreference_t, cublasStatus_t (*)(cublasLtMatmulPreference_t)>;

template <typename T>
void set(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attribute, const T& value) {
  SIMCLR_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, attribute, &value, sizeof value));
}

template <typename T>
void set(cublasLtMatmulPreference_t pref, cublasLtMatmulPreferenceAttributes_t attribute,
         const T& value) {
  SIMCLR_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, attribute, &value, sizeof value));
}

// The operation: transposes, and the bias epilogue when asked for.
void describe(OpHandle& op, const GemmArgs& g, const Types& t, bool epilogue_bias) {
  SIMCLR_CUBLAS_CHECK(cublasLtMatmulDescCreate(&op.desc, t.compute, t.scale));
  // The first cuBLASLt operand is B (row-major k x n, i.e. column-major n x k), the second A.
  set(op.desc, CUBLASLT_MATMUL_DESC_TRANSA, g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N);
  set(op.desc, CUBLASLT_MATMUL_DESC_TRANSB, g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N);
  if (!epilogue_bias) return;
  // The bias is a per-row vector of the column-major C^T, i.e. one value per column n of C, in
  // C's dtype.
  set(op.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, CUBLASLT_EPILOGUE_BIAS);
  set(op.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, g.bias);
  set(op.desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, t.data);
}

// cuBLASLt's best algorithm for these operands, their alignments and our workspace cap.
cublasLtMatmulHeuristicResult_t choose_algorithm(cublasLtHandle_t handle, const OpHandle& op,
                                                 const LayoutHandle& lb, const LayoutHandle& la,
                                                 const LayoutHandle& lc, const GemmArgs& g,
                                                 DType dtype) {
  PreferenceHandle pref{nullptr, cublasLtMatmulPreferenceDestroy};
  SIMCLR_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref.desc));
  set(pref.desc, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, uint64_t{kWorkspaceBytes});
  const size_t bytes = dtype_size(dtype);
  set(pref.desc, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
      alignment_of(g.b, g.batch, g.stride_b, bytes));
  set(pref.desc, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
      alignment_of(g.a, g.batch, g.stride_a, bytes));
  set(pref.desc, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
      alignment_of(g.c, g.batch, g.stride_c, bytes));
  set(pref.desc, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES,
      alignment_of(g.c, g.batch, g.stride_c, bytes));
  cublasLtMatmulHeuristicResult_t heuristic{};
  int found = 0;
  SIMCLR_CUBLAS_CHECK(cublasLtMatmulAlgoGetHeuristic(handle, op.desc, lb.desc, la.desc, lc.desc,
                                                     lc.desc, pref.desc, 1, &heuristic, &found));
  SIMCLR_CHECK(found > 0, "matmul: cuBLASLt found no algorithm for ", dtype_name(dtype), " m=", g.m,
               " n=", g.n, " k=", g.k, " batch=", g.batch);
  return heuristic;
}

}  // namespace

void matmul(DType dtype, const GemmArgs& g, Stream stream) {
  if (g.batch == 0 || g.m == 0 || g.n == 0) return;
  const Types t = types_for(dtype);
  LaunchGuard guard(stream);
  cublasLtHandle_t handle = handle_for(stream.device.index);
  // cuBLASLt has no bias epilogue for fp64: that bias is added in a second pass.
  const bool epilogue_bias = g.bias && dtype != DType::f64;
  OpHandle op{nullptr, cublasLtMatmulDescDestroy};
  describe(op, g, t, epilogue_bias);
  LayoutHandle lb, la, lc;
  make_layout(lb, t.data, g.trans_b ? g.k : g.n, g.trans_b ? g.n : g.k, g.ldb, g.batch, g.stride_b);
  make_layout(la, t.data, g.trans_a ? g.m : g.k, g.trans_a ? g.k : g.m, g.lda, g.batch, g.stride_a);
  make_layout(lc, t.data, g.n, g.m, g.ldc, g.batch, g.stride_c);
  const cublasLtMatmulHeuristicResult_t heuristic =
      choose_algorithm(handle, op, lb, la, lc, g, dtype);

  const Workspace workspace(heuristic.workspaceSize, stream);
  const double alpha64 = g.alpha, beta64 = g.beta;
  const void* alpha = dtype == DType::f64 ? static_cast<const void*>(&alpha64) : &g.alpha;
  const void* beta = dtype == DType::f64 ? static_cast<const void*>(&beta64) : &g.beta;
  const cublasStatus_t status = cublasLtMatmul(
      handle, op.desc, alpha, g.b, lb.desc, g.a, la.desc, beta, g.c, lc.desc, g.c, lc.desc,
      &heuristic.algo, workspace.as<void>(), heuristic.workspaceSize, raw(stream));
  SIMCLR_CUBLAS_CHECK(status);
  if (g.bias && !epilogue_bias) {
    const int64_t n = g.batch * g.m * g.n;
    add_bias_f64<<<grid_for(n), kThreads, 0, raw(stream)>>>(static_cast<double*>(g.c), g.m, g.n,
                                                            g.ldc, g.stride_c, g.batch,
                                                            static_cast<const double*>(g.bias));
    SIMCLR_CUDA_CHECK(cudaGetLastError());
  }
}

}  // namespace simclr::cuda
