// NT-Xent, fused (kernels/kernel_decls.inc gives the contract, kernels/nt_xent.h the math). The
// M x M similarity matrix is never written to device memory: a block owns BM rows and walks all
// m columns in BN-wide tiles. Each tile S = inv_t * Z_rows Z_cols^T lives in shared memory only.
// - Forward: an online max and sum per row (flash-attention style), the positive's similarity,
//   then loss and log-sum-exp per row.
// - Backward: the tile is recomputed and turned into W_kj = P_kj + P_jk (P_ij = exp(s_ij - lse_i),
//   zero on the diagonal and outside the matrix); G[BM x DC] += W Z_cols[:, chunk] for one chunk
//   of DC = BN output columns per block (grid.y walks the chunks), then
//   grad = scale * (G - 2 z_pos).
// Tile products: bf16 on tensor cores (nvcuda::wmma 16x16x16, fp32 accumulation, W rounded to
// bf16 for the second product as flash attention does); f32 and f16 as fp32 FMA register tiles;
// f64 as fp64 FMA tiles. Every load is bounds-checked (zero fill), so any m >= 2 and any d work.
#include <mma.h>

#include <cuda_bf16.h>

#include "kernels/backends.h"
#include "kernels/cast.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/elementwise_math.h"

namespace simclr::cuda {

namespace {

constexpr int kNxThreads = 256;  // 8 warps; 16 x 16 threads for the FMA register tiles

// ---- FMA tiles (f32, f16: fp32; f64: fp64) ----
// Thread (ty, tx) = (t / 16, t % 16) owns the tile elements (ty + 16 i, tx + 16 j).
template <typename T>
struct FmaPolicy {
  using A = acc_type<T>;
  static constexpr int BM = std::is_same_v<T, double> ? 32 : 64;  // rows per block
  static constexpr int BN = BM;                                   // columns per tile (= DC)
  static constexpr int BK = std::is_same_v<T, double> ? 16 : 32;  // depth per staged slice
  static constexpr int TM = BM / 16, TN = BN / 16;

  struct Smem {
    A s[BM][BN + 4];  // S, then W (backward), then G (backward, at the end)
    union {
      struct {
        A a[BK][BM + 4];  // rows slice, k-major
        A b[BK][BN + 4];  // columns slice, k-major
      } stage;
      A zc[BN][BN + 4];  // Z_cols[:, chunk] (backward)
    } u;
  };
  static_assert(sizeof(Smem) <= 48 * 1024, "static shared memory above 48 KiB");

  struct GAcc {
    A v[TM][TN];
  };

  // sm.s = inv_t * z[row0 + r] . z[col0 + c] (0 outside [row0, row_end) x [col0, m)); synced.
  __device__ static void s_tile(Smem& sm, const T* z, int64_t m, int64_t d, int64_t row0,
                                int64_t row_end, int64_t col0, A inv_t) {
    const int t = static_cast<int>(threadIdx.x), ty = t / 16, tx = t % 16;
    A acc[TM][TN];
    for (int i = 0; i < TM; ++i)
      for (int j = 0; j < TN; ++j) acc[i][j] = 0;
    for (int64_t k0 = 0; k0 < d; k0 += BK) {
      for (int e = t; e < BM * BK; e += kNxThreads) {
        const int r = e / BK, k = e % BK;
        const int64_t gr = row0 + r, gk = k0 + k;
        sm.u.stage.a[k][r] = gr < row_end && gk < d ? cast_element<A>(z[gr * d + gk]) : A(0);
      }
      for (int e = t; e < BN * BK; e += kNxThreads) {
        const int c = e / BK, k = e % BK;
        const int64_t gc = col0 + c, gk = k0 + k;
        sm.u.stage.b[k][c] = gc < m && gk < d ? cast_element<A>(z[gc * d + gk]) : A(0);
      }
      __syncthreads();
      for (int k = 0; k < BK; ++k) {
        A a[TM], b[TN];
        for (int i = 0; i < TM; ++i) a[i] = sm.u.stage.a[k][ty + 16 * i];
        for (int j = 0; j < TN; ++j) b[j] = sm.u.stage.b[k][tx + 16 * j];
        for (int i = 0; i < TM; ++i)
          for (int j = 0; j < TN; ++j) acc[i][j] += a[i] * b[j];
      }
      __syncthreads();
    }
    for (int i = 0; i < TM; ++i)
      for (int j = 0; j < TN; ++j) sm.s[ty + 16 * i][tx + 16 * j] = acc[i][j] * inv_t;
    __syncthreads();
  }

  __device__ static A s_at(const Smem& sm, int r, int c) { return sm.s[r][c]; }
  __device__ static void set_w(Smem& sm, int r, int c, A w) { sm.s[r][c] = w; }

  // sm.u.zc[j][c] = z[col0 + j][c0 + c] (0 outside).
  __device__ static void load_zc(Smem& sm, const T* z, int64_t m, int64_t d, int64_t col0,
                                 int64_t c0) {
    for (int e = static_cast<int>(threadIdx.x); e < BN * BN; e += kNxThreads) {
      const int j = e / BN, c = e % BN;
      const int64_t gj = col0 + j, gc = c0 + c;
      sm.u.zc[j][c] = gj < m && gc < d ? cast_element<A>(z[gj * d + gc]) : A(0);
    }
  }

  __device__ static void g_zero(GAcc& g) {
    for (int i = 0; i < TM; ++i)
      for (int j = 0; j < TN; ++j) g.v[i][j] = 0;
  }

  // g += W Z_cols[:, chunk]; reads sm.s (W) and sm.u.zc.
  __device__ static void g_accumulate(const Smem& sm, GAcc& g) {
    const int t = static_cast<int>(threadIdx.x), ty = t / 16, tx = t % 16;
    for (int k = 0; k < BN; ++k) {
      A w[TM], b[TN];
      for (int i = 0; i < TM; ++i) w[i] = sm.s[ty + 16 * i][k];
      for (int j = 0; j < TN; ++j) b[j] = sm.u.zc[k][tx + 16 * j];
      for (int i = 0; i < TM; ++i)
        for (int j = 0; j < TN; ++j) g.v[i][j] += w[i] * b[j];
    }
  }

  // sm.s = g (the caller synchronizes before and after).
  __device__ static void g_store(Smem& sm, const GAcc& g) {
    const int t = static_cast<int>(threadIdx.x), ty = t / 16, tx = t % 16;
    for (int i = 0; i < TM; ++i)
      for (int j = 0; j < TN; ++j) sm.s[ty + 16 * i][tx + 16 * j] = g.v[i][j];
  }
};

// ---- bf16 tensor-core tiles (wmma 16x16x16, fp32 accumulation) ----
// 64 x 64 tiles = 4 x 4 fragments; warp w owns fragment row w / 2 and fragment columns
// 2 (w % 2) and 2 (w % 2) + 1, in both products.
struct WmmaPolicy {
  using T = bf16;
  using A = float;
  using H = __nv_bfloat16;
  static constexpr int BM = 64, BN = 64, BK = 32;
  static constexpr int LS = BN + 4;  // float leading dimension: a multiple of 4 (wmma)
  static constexpr int LK = BK + 8;  // bf16 leading dimensions: multiples of 8 (wmma), and
  static constexpr int LW = BN + 8;  // every fragment start 32-byte aligned (checked below)

  struct Smem {
    alignas(32) float s[BM][LS];  // S, then G (backward, at the end)
    union U {
      struct {
        alignas(32) H a[BM][LK];  // rows slice, row-major: matrix_a row_major
        alignas(32) H b[BN][LK];  // columns slice = (Z_cols^T) col-major: matrix_b col_major
      } stage;
      struct {
        alignas(32) H w[BM][LW];   // W: matrix_a row_major
        alignas(32) H zc[BN][LW];  // Z_cols[:, chunk]: matrix_b row_major
      } acc;
    } u;
  };
  static_assert(sizeof(Smem) <= 48 * 1024, "static shared memory above 48 KiB");
  static_assert((16 * LS * 4) % 32 == 0 && (16 * 4) % 32 == 0, "float fragment alignment");
  static_assert((16 * LK * 2) % 32 == 0 && (16 * LW * 2) % 32 == 0 && (16 * 2) % 32 == 0,
                "bf16 fragment alignment");
  static_assert(sizeof(float[BM][LS]) % 32 == 0 && sizeof(H[BM][LK]) % 32 == 0 &&
                    sizeof(H[BM][LW]) % 32 == 0,
                "array sizes keep the next array 32-byte aligned");

  using AccFrag = nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float>;
  struct GAcc {
    AccFrag f[2];
  };

  __device__ static H bits(bf16 x) { return __ushort_as_bfloat16(x.bits); }
  __device__ static H zero() { return __ushort_as_bfloat16(0); }
  __device__ static int warp() { return static_cast<int>(threadIdx.x) / 32; }

  __device__ static void s_tile(Smem& sm, const T* z, int64_t m, int64_t d, int64_t row0,
                                int64_t row_end, int64_t col0, A inv_t) {
    using namespace nvcuda;
    const int t = static_cast<int>(threadIdx.x), fr = warp() / 2, fc = 2 * (warp() % 2);
    AccFrag acc[2];
    wmma::fill_fragment(acc[0], 0.0f);
    wmma::fill_fragment(acc[1], 0.0f);
    for (int64_t k0 = 0; k0 < d; k0 += BK) {
      for (int e = t; e < BM * BK; e += kNxThreads) {
        const int r = e / BK, k = e % BK;
        const int64_t gr = row0 + r, gk = k0 + k;
        sm.u.stage.a[r][k] = gr < row_end && gk < d ? bits(z[gr * d + gk]) : zero();
      }
      for (int e = t; e < BN * BK; e += kNxThreads) {
        const int c = e / BK, k = e % BK;
        const int64_t gc = col0 + c, gk = k0 + k;
        sm.u.stage.b[c][k] = gc < m && gk < d ? bits(z[gc * d + gk]) : zero();
      }
      __syncthreads();
      for (int ks = 0; ks < BK; ks += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, H, wmma::row_major> fa;
        wmma::load_matrix_sync(fa, &sm.u.stage.a[16 * fr][ks], LK);
        for (int f = 0; f < 2; ++f) {
          wmma::fragment<wmma::matrix_b, 16, 16, 16, H, wmma::col_major> fb;
          wmma::load_matrix_sync(fb, &sm.u.stage.b[16 * (fc + f)][ks], LK);
          wmma::mma_sync(acc[f], fa, fb, acc[f]);
        }
      }
      __syncthreads();
    }
    for (int f = 0; f < 2; ++f) {
      for (int i = 0; i < acc[f].num_elements; ++i) acc[f].x[i] *= inv_t;
      wmma::store_matrix_sync(&sm.s[16 * fr][16 * (fc + f)], acc[f], LS, wmma::mem_row_major);
    }
    __syncthreads();
  }

  __device__ static A s_at(const Smem& sm, int r, int c) { return sm.s[r][c]; }
  __device__ static void set_w(Smem& sm, int r, int c, A w) {
    sm.u.acc.w[r][c] = __float2bfloat16_rn(w);
  }

  __device__ static void load_zc(Smem& sm, const T* z, int64_t m, int64_t d, int64_t col0,
                                 int64_t c0) {
    for (int e = static_cast<int>(threadIdx.x); e < BN * BN; e += kNxThreads) {
      const int j = e / BN, c = e % BN;
      const int64_t gj = col0 + j, gc = c0 + c;
      sm.u.acc.zc[j][c] = gj < m && gc < d ? bits(z[gj * d + gc]) : zero();
    }
  }

  __device__ static void g_zero(GAcc& g) {
    nvcuda::wmma::fill_fragment(g.f[0], 0.0f);
    nvcuda::wmma::fill_fragment(g.f[1], 0.0f);
  }

  __device__ static void g_accumulate(Smem& sm, GAcc& g) {
    using namespace nvcuda;
    const int fr = warp() / 2, fc = 2 * (warp() % 2);
    for (int ks = 0; ks < BN; ks += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, H, wmma::row_major> fw;
      wmma::load_matrix_sync(fw, &sm.u.acc.w[16 * fr][ks], LW);
      for (int f = 0; f < 2; ++f) {
        wmma::fragment<wmma::matrix_b, 16, 16, 16, H, wmma::row_major> fz;
        wmma::load_matrix_sync(fz, &sm.u.acc.zc[ks][16 * (fc + f)], LW);
        wmma::mma_sync(g.f[f], fw, fz, g.f[f]);
      }
    }
  }

  __device__ static void g_store(Smem& sm, const GAcc& g) {
    const int fr = warp() / 2, fc = 2 * (warp() % 2);
    for (int f = 0; f < 2; ++f)
      nvcuda::wmma::store_matrix_sync(&sm.s[16 * fr][16 * (fc + f)], g.f[f], LS,
                                      nvcuda::wmma::mem_row_major);
  }
};

template <typename T>
struct PolicyFor {
  using type = FmaPolicy<T>;
};
template <>
struct PolicyFor<bf16> {
  using type = WmmaPolicy;
};

// Reductions over the TPR consecutive lanes that share a row (a power of two dividing 32); the
// xor butterfly leaves the same value in every lane of the group.
template <int TPR, typename A>
__device__ A group_max(A v) {
  for (int o = TPR / 2; o > 0; o /= 2) v = ::max(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
template <int TPR, typename A>
__device__ A group_sum(A v) {
  for (int o = TPR / 2; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

template <typename T, typename P>
__global__ void __launch_bounds__(kNxThreads)
    nt_xent_forward_kernel(int64_t rows, int64_t row_offset, int64_t m, int64_t d, const T* z,
                           acc_type<T> inv_t, acc_type<T>* row_loss, acc_type<T>* row_lse) {
  using A = acc_type<T>;
  constexpr int BM = P::BM, BN = P::BN, TPR = kNxThreads / BM;
  static_assert(TPR >= 1 && TPR <= 32 && 32 % TPR == 0, "row groups must tile a warp");
  __shared__ typename P::Smem sm;
  const int r = static_cast<int>(threadIdx.x) / TPR, lane = static_cast<int>(threadIdx.x) % TPR;
  for (int64_t tile = static_cast<int64_t>(blockIdx.x) * BM; tile < rows;
       tile += static_cast<int64_t>(gridDim.x) * BM) {
    const int64_t gi = row_offset + tile + r;  // this group's global row
    const int64_t pos = (gi + m / 2) % m;
    const bool row_ok = tile + r < rows;
    A run_max = -INFINITY, run_sum = 0, s_pos = 0;
    for (int64_t col0 = 0; col0 < m; col0 += BN) {
      P::s_tile(sm, z, m, d, row_offset + tile, row_offset + rows, col0, inv_t);
      A tile_max = -INFINITY;
      for (int c = lane; c < BN; c += TPR) {
        const int64_t gj = col0 + c;
        if (gj < m && gj != gi) tile_max = ::max(tile_max, P::s_at(sm, r, c));
      }
      tile_max = group_max<TPR>(tile_max);
      const A new_max = ::max(run_max, tile_max);
      // new_max is -inf only when no valid column has been seen yet; then tile_sum stays 0.
      const A shift = new_max == -INFINITY ? A(0) : new_max;
      A tile_sum = 0;
      for (int c = lane; c < BN; c += TPR) {
        const int64_t gj = col0 + c;
        const A s = P::s_at(sm, r, c);
        if (gj < m && gj != gi) tile_sum += math::exp(s - shift);
        if (gj == pos) s_pos = s;
      }
      tile_sum = group_sum<TPR>(tile_sum);
      run_sum = (run_max == -INFINITY ? A(0) : run_sum * math::exp(run_max - shift)) + tile_sum;
      run_max = new_max;
      __syncthreads();  // sm.s is rewritten by the next tile
    }
    s_pos = group_sum<TPR>(s_pos);  // exactly one lane of the group saw pos
    if (row_ok && lane == 0) {
      const A lse = run_max + math::log(run_sum);
      row_lse[tile + r] = lse;
      row_loss[tile + r] = lse - s_pos;
    }
  }
}

template <typename T, typename P>
__global__ void __launch_bounds__(kNxThreads)
    nt_xent_backward_kernel(int64_t rows, int64_t row_offset, int64_t m, int64_t d, const T* z,
                            acc_type<T> inv_t, const acc_type<T>* lse, acc_type<T> scale, T* grad) {
  using A = acc_type<T>;
  constexpr int BM = P::BM, BN = P::BN;
  __shared__ typename P::Smem sm;
  const int t = static_cast<int>(threadIdx.x);
  for (int64_t tile = static_cast<int64_t>(blockIdx.x) * BM; tile < rows;
       tile += static_cast<int64_t>(gridDim.x) * BM) {
    for (int64_t c0 = static_cast<int64_t>(blockIdx.y) * BN; c0 < d;
         c0 += static_cast<int64_t>(gridDim.y) * BN) {
      typename P::GAcc g;
      P::g_zero(g);
      for (int64_t col0 = 0; col0 < m; col0 += BN) {
        P::s_tile(sm, z, m, d, row_offset + tile, row_offset + rows, col0, inv_t);
        // W in place of S (each element read and written by the same thread).
        for (int e = t; e < BM * BN; e += kNxThreads) {
          const int r = e / BN, c = e % BN;
          const int64_t gk = row_offset + tile + r, gj = col0 + c;
          A w = 0;
          if (tile + r < rows && gj < m && gj != gk) {
            const A s = P::s_at(sm, r, c);
            w = math::exp(s - lse[gk]) + math::exp(s - lse[gj]);
          }
          P::set_w(sm, r, c, w);
        }
        P::load_zc(sm, z, m, d, col0, c0);
        __syncthreads();
        P::g_accumulate(sm, g);
        __syncthreads();  // W and Z_cols are rewritten by the next tile
      }
      P::g_store(sm, g);
      __syncthreads();
      for (int e = t; e < BM * BN; e += kNxThreads) {
        const int r = e / BN, c = e % BN;
        const int64_t gc = c0 + c;
        if (tile + r < rows && gc < d) {
          const int64_t gk = row_offset + tile + r, pos = (gk + m / 2) % m;
          const A value = scale * (sm.s[r][c] - A(2) * cast_element<A>(z[pos * d + gc]));
          grad[(tile + r) * d + gc] = cast_element<T>(value);
        }
      }
      __syncthreads();  // sm.s is rewritten by the next chunk
    }
  }
}

unsigned row_tiles(int64_t rows, int bm) {
  return static_cast<unsigned>(std::min<int64_t>((rows + bm - 1) / bm, (int64_t{1} << 31) - 1));
}

}  // namespace

void nt_xent_forward(DType dtype, int64_t rows, int64_t row_offset, int64_t m, int64_t d,
                     const void* z, double inv_temperature, void* row_loss, void* row_lse,
                     Stream stream) {
  if (rows <= 0) return;
  dispatch_floating(dtype, "nt_xent_forward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    using P = typename PolicyFor<T>::type;
    LaunchGuard guard(stream);
    nt_xent_forward_kernel<T, P><<<row_tiles(rows, P::BM), kNxThreads, 0, raw(stream)>>>(
        rows, row_offset, m, d, static_cast<const T*>(z), static_cast<A>(inv_temperature),
        static_cast<A*>(row_loss), static_cast<A*>(row_lse));
    SIMCLR_CUDA_CHECK(cudaGetLastError());
  });
}

void nt_xent_backward(DType dtype, int64_t rows, int64_t row_offset, int64_t m, int64_t d,
                      const void* z, double inv_temperature, const void* lse, double scale,
                      void* grad_rows, Stream stream) {
  if (rows <= 0 || d <= 0) return;
  dispatch_floating(dtype, "nt_xent_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    using P = typename PolicyFor<T>::type;
    const dim3 grid(row_tiles(rows, P::BM),
                    static_cast<unsigned>(std::min<int64_t>((d + P::BN - 1) / P::BN, 65535)));
    LaunchGuard guard(stream);
    nt_xent_backward_kernel<T, P><<<grid, kNxThreads, 0, raw(stream)>>>(
        rows, row_offset, m, d, static_cast<const T*>(z), static_cast<A>(inv_temperature),
        static_cast<const A*>(lse), static_cast<A>(scale), static_cast<T*>(grad_rows));
    SIMCLR_CUDA_CHECK(cudaGetLastError());
  });
}

}  // namespace simclr::cuda
