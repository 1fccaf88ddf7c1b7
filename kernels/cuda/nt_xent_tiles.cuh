// The tile products of the fused NT-Xent kernels (nt_xent.cu, their only includer). A policy owns
// the shared memory of a block and computes, for a BM x BN tile:
//   s_tile:        S = Z_rows Z_cols^T (raw dot products; the kernels apply 1 / tau and the
//                  inverse norms), left in sm.s;
//   g_accumulate:  G[BM x BN] += W Z_cols[:, chunk], W set element by element with set_w, and
//                  G stored into sm.s at the end (g_store).
// Policies: FmaPolicy (f32 and f16 as fp32, f64 as fp64 FMA register tiles) and MmaPolicy on
// tensor cores through nvcuda::wmma with fp32 accumulation: Bf16Mma (16x16x16, W rounded to bf16
// for the second product as flash attention does) and Tf32Mma (16x16x8, operands rounded to TF32,
// 10-bit mantissa). Every load is bounds-checked (zero fill), so any m >= 2 and any d work.
#pragma once

#include <mma.h>

#include <cuda_bf16.h>

#include <cstdint>
#include <type_traits>

#include "kernels/cast.h"
#include "kernels/cuda/launch.cuh"

namespace simclr::cuda::nt_xent_tiles {

static_assert(kThreads == 256, "8 warps (wmma tiles) and 16 x 16 threads (FMA tiles) per block");

// ---- FMA tiles ----
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
  static_assert(sizeof(Smem) <= 46 * 1024, "static shared memory above 46 KiB");

  struct GAcc {
    A v[TM][TN];
  };

  // sm.s = z[row0 + r] . z[col0 + c] (0 outside [row0, row_end) x [col0, m)); synced.
  __device__ static void s_tile(Smem& sm, const T* z, int64_t m, int64_t d, int64_t row0,
                                int64_t row_end, int64_t col0) {
    const int t = static_cast<int>(threadIdx.x), ty = t / 16, tx = t % 16;
    A acc[TM][TN];
    for (int i = 0; i < TM; ++i)
      for (int j = 0; j < TN; ++j) acc[i][j] = 0;
    for (int64_t k0 = 0; k0 < d; k0 += BK) {
      for (int e = t; e < BM * BK; e += kThreads) {
        const int r = e / BK, k = e % BK;
        const int64_t gr = row0 + r, gk = k0 + k;
        sm.u.stage.a[k][r] = gr < row_end && gk < d ? cast_element<A>(z[gr * d + gk]) : A(0);
      }
      for (int e = t; e < BN * BK; e += kThreads) {
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
      for (int j = 0; j < TN; ++j) sm.s[ty + 16 * i][tx + 16 * j] = acc[i][j];
    __syncthreads();
  }

  __device__ static A s_at(const Smem& sm, int r, int c) { return sm.s[r][c]; }
  __device__ static void set_w(Smem& sm, int r, int c, A w) { sm.s[r][c] = w; }

  // sm.u.zc[j][c] = z[col0 + j][c0 + c] (0 outside).
  __device__ static void load_zc(Smem& sm, const T* z, int64_t m, int64_t d, int64_t col0,
                                 int64_t c0) {
    for (int e = static_cast<int>(threadIdx.x); e < BN * BN; e += kThreads) {
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

// ---- tensor-core tiles: the operand formats ----
// bf16 z: operands stored as bf16; W rounded to bf16 into its own array.
struct Bf16Mma {
  using T = bf16;
  using H = __nv_bfloat16;        // operand element in shared memory
  using Element = H;              // wmma's element type
  static constexpr int KS = 16;   // depth of one mma
  static constexpr int kPad = 8;  // row padding in elements: 16 bytes
  static constexpr bool kWInS = false;
  __device__ static H operand(T x) { return __ushort_as_bfloat16(x.bits); }
  __device__ static H zero() { return __ushort_as_bfloat16(0); }
  __device__ static H w_operand(float w) { return __float2bfloat16_rn(w); }
  template <typename Frag>
  __device__ static void round(Frag&) {}
};

// f32 z: operands stored as fp32 and rounded to TF32 in the fragments; W is written in place of S
// (fp32, so the block's shared memory stays under 48 KiB).
struct Tf32Mma {
  using T = float;
  using H = float;
  using Element = nvcuda::wmma::precision::tf32;
  static constexpr int KS = 8;
  static constexpr int kPad = 4;
  static constexpr bool kWInS = true;
  __device__ static H operand(T x) { return x; }
  __device__ static H zero() { return 0.0f; }
  template <typename Frag>
  __device__ static void round(Frag& f) {
    for (int i = 0; i < f.num_elements; ++i) f.x[i] = nvcuda::wmma::__float_to_tf32(f.x[i]);
  }
};

// ---- tensor-core tiles (wmma, fp32 accumulation) ----
// 64 x 64 tiles = 4 x 4 fragments; warp w owns fragment row w / 2 and fragment columns
// 2 (w % 2) and 2 (w % 2) + 1, in both products.
template <typename Cfg>
struct MmaPolicy {
  using T = typename Cfg::T;
  using A = float;
  using H = typename Cfg::H;
  static constexpr int BM = 64, BN = 64, BK = 32, KS = Cfg::KS;
  static constexpr int LS = BN + 4;          // float leading dimension: a multiple of 4 (wmma)
  static constexpr int LK = BK + Cfg::kPad;  // operand leading dimensions: multiples of 16 bytes,
  static constexpr int LZ = BN + Cfg::kPad;  // every fragment start 32-byte aligned (checked below)
  static constexpr int LW = Cfg::kWInS ? LS : LZ;

  struct Stage {
    alignas(32) H a[BM][LK];  // rows slice, row-major: matrix_a row_major
    alignas(32) H b[BN][LK];  // columns slice = (Z_cols^T) col-major: matrix_b col_major
  };
  struct SeparateW {
    alignas(32) H w[BM][LZ];   // W: matrix_a row_major
    alignas(32) H zc[BN][LZ];  // Z_cols[:, chunk]: matrix_b row_major
  };
  struct WInS {
    alignas(32) H zc[BN][LZ];
  };
  struct Smem {
    alignas(32) float s[BM][LS];  // S, W when Cfg::kWInS, then G (backward, at the end)
    union U {
      Stage stage;
      std::conditional_t<Cfg::kWInS, WInS, SeparateW> acc;
    } u;
  };
  static_assert(sizeof(Smem) <= 46 * 1024, "static shared memory above 46 KiB");
  static_assert(!Cfg::kWInS || std::is_same_v<H, float>, "W in place of S needs fp32 operands");
  static_assert((16 * LS * 4) % 32 == 0 && (16 * 4) % 32 == 0 && (KS * 4) % 32 == 0,
                "float fragment alignment");
  static_assert((16 * LK * sizeof(H)) % 32 == 0 && (KS * LZ * sizeof(H)) % 32 == 0 &&
                    (16 * LZ * sizeof(H)) % 32 == 0 && (16 * sizeof(H)) % 32 == 0 &&
                    (KS * sizeof(H)) % 32 == 0,
                "operand fragment alignment");

  using AccFrag = nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, KS, float>;
  template <typename Use, typename Layout>
  using Frag = nvcuda::wmma::fragment<Use, 16, 16, KS, typename Cfg::Element, Layout>;
  struct GAcc {
    AccFrag f[2];
  };

  __device__ static int warp() { return static_cast<int>(threadIdx.x) / 32; }

  template <typename F>
  __device__ static void load(F& f, const H* p, int ld) {
    nvcuda::wmma::load_matrix_sync(f, p, static_cast<unsigned>(ld));
    Cfg::round(f);
  }

  __device__ static void s_tile(Smem& sm, const T* z, int64_t m, int64_t d, int64_t row0,
                                int64_t row_end, int64_t col0) {
    using namespace nvcuda;
    const int t = static_cast<int>(threadIdx.x), fr = warp() / 2, fc = 2 * (warp() % 2);
    AccFrag acc[2];
    wmma::fill_fragment(acc[0], 0.0f);
    wmma::fill_fragment(acc[1], 0.0f);
    for (int64_t k0 = 0; k0 < d; k0 += BK) {
      for (int e = t; e < BM * BK; e += kThreads) {
        const int r = e / BK, k = e % BK;
        const int64_t gr = row0 + r, gk = k0 + k;
        sm.u.stage.a[r][k] = gr < row_end && gk < d ? Cfg::operand(z[gr * d + gk]) : Cfg::zero();
      }
      for (int e = t; e < BN * BK; e += kThreads) {
        const int c = e / BK, k = e % BK;
        const int64_t gc = col0 + c, gk = k0 + k;
        sm.u.stage.b[c][k] = gc < m && gk < d ? Cfg::operand(z[gc * d + gk]) : Cfg::zero();
      }
      __syncthreads();
      for (int ks = 0; ks < BK; ks += KS) {
        Frag<wmma::matrix_a, wmma::row_major> fa;
        load(fa, &sm.u.stage.a[16 * fr][ks], LK);
        for (int f = 0; f < 2; ++f) {
          Frag<wmma::matrix_b, wmma::col_major> fb;
          load(fb, &sm.u.stage.b[16 * (fc + f)][ks], LK);
          wmma::mma_sync(acc[f], fa, fb, acc[f]);
        }
      }
      __syncthreads();
    }
    for (int f = 0; f < 2; ++f)
      wmma::store_matrix_sync(&sm.s[16 * fr][16 * (fc + f)], acc[f], LS, wmma::mem_row_major);
    __syncthreads();
  }

  __device__ static A s_at(const Smem& sm, int r, int c) { return sm.s[r][c]; }
  __device__ static void set_w(Smem& sm, int r, int c, A w) {
    if constexpr (Cfg::kWInS) {
      sm.s[r][c] = w;
    } else {
      sm.u.acc.w[r][c] = Cfg::w_operand(w);
    }
  }
  __device__ static const H* w_row(const Smem& sm, int r) {
    if constexpr (Cfg::kWInS) {
      return &sm.s[r][0];
    } else {
      return &sm.u.acc.w[r][0];
    }
  }

  __device__ static void load_zc(Smem& sm, const T* z, int64_t m, int64_t d, int64_t col0,
                                 int64_t c0) {
    for (int e = static_cast<int>(threadIdx.x); e < BN * BN; e += kThreads) {
      const int j = e / BN, c = e % BN;
      const int64_t gj = col0 + j, gc = c0 + c;
      sm.u.acc.zc[j][c] = gj < m && gc < d ? Cfg::operand(z[gj * d + gc]) : Cfg::zero();
    }
  }

  __device__ static void g_zero(GAcc& g) {
    nvcuda::wmma::fill_fragment(g.f[0], 0.0f);
    nvcuda::wmma::fill_fragment(g.f[1], 0.0f);
  }

  __device__ static void g_accumulate(const Smem& sm, GAcc& g) {
    using namespace nvcuda;
    const int fr = warp() / 2, fc = 2 * (warp() % 2);
    for (int ks = 0; ks < BN; ks += KS) {
      Frag<wmma::matrix_a, wmma::row_major> fw;
      load(fw, w_row(sm, 16 * fr) + ks, LW);
      for (int f = 0; f < 2; ++f) {
        Frag<wmma::matrix_b, wmma::row_major> fz;
        load(fz, &sm.u.acc.zc[ks][16 * (fc + f)], LZ);
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

// The policy of each dtype; f32 has two, chosen at launch.
template <typename T>
struct PolicyFor {
  using type = FmaPolicy<T>;
};
template <>
struct PolicyFor<bf16> {
  using type = MmaPolicy<Bf16Mma>;
};

}  // namespace simclr::cuda::nt_xent_tiles
