// matmul on OpenBLAS: f32 and f64 call sgemm/dgemm directly, on pieces of rows spread over the
// CPU thread pool (OpenBLAS itself runs one thread per call, see kernels/cpu/parallel.h); bf16 and
// f16 are widened to f32, multiplied with fp32 accumulation, and rounded back, which is what the
// GPU computes too.
#include <cblas.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "kernels/backends.h"
#include "kernels/cast.h"
#include "kernels/cpu/parallel.h"

namespace simclr::cpu {

namespace {

// Copies the (rows x cols, leading dimension ld) matrix at p to a dense f32 buffer.
template <typename T>
std::vector<float> widen(const void* p, int64_t rows, int64_t cols, int64_t ld) {
  std::vector<float> out(static_cast<size_t>(rows * cols));
  const T* x = static_cast<const T*>(p);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      out[static_cast<size_t>(r * cols + c)] = static_cast<float>(x[r * ld + c]);
  return out;
}

template <typename T>
void gemm_half(const GemmArgs& g) {
  const int64_t a_rows = g.trans_a ? g.k : g.m, a_cols = g.trans_a ? g.m : g.k;
  const int64_t b_rows = g.trans_b ? g.n : g.k, b_cols = g.trans_b ? g.k : g.n;
  for (int64_t i = 0; i < g.batch; ++i) {
    const auto a = widen<T>(static_cast<const T*>(g.a) + i * g.stride_a, a_rows, a_cols, g.lda);
    const auto b = widen<T>(static_cast<const T*>(g.b) + i * g.stride_b, b_rows, b_cols, g.ldb);
    T* c = static_cast<T*>(g.c) + i * g.stride_c;
    // With beta = 0, C is output only (it may hold anything, NaN included), as in BLAS.
    std::vector<float> acc = g.beta == 0.0f ? std::vector<float>(static_cast<size_t>(g.m * g.n))
                                            : widen<T>(c, g.m, g.n, g.ldc);
    cblas_sgemm(CblasRowMajor, g.trans_a ? CblasTrans : CblasNoTrans,
                g.trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(g.m), static_cast<int>(g.n),
                static_cast<int>(g.k), g.alpha, a.data(), static_cast<int>(a_cols), b.data(),
                static_cast<int>(b_cols), g.beta, acc.data(), static_cast<int>(g.n));
    if (g.bias) {
      const T* bias = static_cast<const T*>(g.bias);
      for (int64_t r = 0; r < g.m; ++r)
        for (int64_t col = 0; col < g.n; ++col)
          acc[static_cast<size_t>(r * g.n + col)] += static_cast<float>(bias[col]);
    }
    for (int64_t r = 0; r < g.m; ++r)
      for (int64_t col = 0; col < g.n; ++col)
        c[r * g.ldc + col] = T(acc[static_cast<size_t>(r * g.n + col)]);
  }
}

// C[r, :] += bias for every row of every batch.
template <typename T>
void add_bias(const GemmArgs& g) {
  const T* bias = static_cast<const T*>(g.bias);
  for (int64_t i = 0; i < g.batch; ++i) {
    T* c = static_cast<T*>(g.c) + i * g.stride_c;
    for (int64_t r = 0; r < g.m; ++r)
      for (int64_t col = 0; col < g.n; ++col) c[r * g.ldc + col] += bias[col];
  }
}

// Rows of C per piece of work on the thread pool: each piece is one BLAS call on its rows.
constexpr int64_t kRowsPerPiece = 256;

template <typename T>
void gemm_rows(const GemmArgs& g, int64_t i, int64_t row0, int64_t row1) {
  const auto ta = g.trans_a ? CblasTrans : CblasNoTrans;
  const auto tb = g.trans_b ? CblasTrans : CblasNoTrans;
  const T* a = static_cast<const T*>(g.a) + i * g.stride_a + row0 * (g.trans_a ? 1 : g.lda);
  const T* b = static_cast<const T*>(g.b) + i * g.stride_b;
  T* c = static_cast<T*>(g.c) + i * g.stride_c + row0 * g.ldc;
  const int m = static_cast<int>(row1 - row0), n = static_cast<int>(g.n), k = static_cast<int>(g.k);
  const int lda = static_cast<int>(g.lda), ldb = static_cast<int>(g.ldb);
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, g.alpha, a, lda, b, ldb, g.beta, c,
                static_cast<int>(g.ldc));
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, g.alpha, a, lda, b, ldb, g.beta, c,
                static_cast<int>(g.ldc));
  }
}

// f32 and f64: every matrix of the batch cut into pieces of rows, spread over the thread pool.
template <typename T>
void gemm_direct(const GemmArgs& g) {
  const int64_t per = (g.m + kRowsPerPiece - 1) / kRowsPerPiece;
  parallel_for(g.batch * per, [&](int64_t piece) {
    const int64_t row0 = (piece % per) * kRowsPerPiece;
    gemm_rows<T>(g, piece / per, row0, std::min(g.m, row0 + kRowsPerPiece));
  });
  if (g.bias) add_bias<T>(g);
}

}  // namespace

void matmul(DType dtype, const GemmArgs& g, Stream) {
  if (dtype == DType::f32) gemm_direct<float>(g);
  if (dtype == DType::f64) gemm_direct<double>(g);
  if (dtype == DType::bf16) gemm_half<bf16>(g);
  if (dtype == DType::f16) gemm_half<f16>(g);
  if (!is_floating(dtype)) throw_unsupported_dtype(dtype, "matmul", "a floating dtype");
}

}  // namespace simclr::cpu
