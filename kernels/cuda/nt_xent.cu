// NT-Xent, fused (kernels/kernel_decls.inc gives the contract, kernels/nt_xent.h the math). The
// M x M similarity matrix is never written to device memory: a block owns BM rows and walks all
// m columns in BN-wide tiles. Each tile of raw products Z_rows Z_cols^T lives in shared memory
// only (nt_xent_tiles.cuh: FMA or tensor-core products); s_ij = that * inv_t * inv_i * inv_j, where
// the inverse norms inv (1 without normalization) come from a one-warp-per-row pre-pass, so the
// normalized copy of z is never written.
// - Forward: an online max and sum per row (flash-attention style), the positive's similarity,
//   then loss and log-sum-exp per row.
// - Backward: the tile is recomputed and turned into W_kj = P_kj + P_jk (P_ij = exp(s_ij - lse_i),
//   zero on the diagonal and outside the matrix); G[BM x DC] += (W inv_cols) Z_cols[:, chunk] for
//   one chunk of DC = BN output columns per block (grid.y walks the chunks), so G = sum_j W_kj
//   zhat_j. The same pass sums W_kj s_kj per row, which gives the normalization's radial term
//   (nt_xent_math::radial), and the epilogue writes nt_xent_math::grad per element.
// Row r of a tile belongs to the TPR = 256 / BM consecutive threads r * TPR ... in both the
// forward and the W pass, so per-row sums are warp shuffles in a fixed order: deterministic.
#include "kernels/backends.h"
#include "kernels/cast.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/nt_xent_tiles.cuh"
#include "kernels/elementwise_math.h"
#include "kernels/nt_xent_math.h"

namespace simclr::cuda {

namespace {

namespace nm = nt_xent_math;

template <typename T>
struct Problem {
  int64_t rows, row_offset, m, d;
  const T* z;
  const acc_type<T>* inv;  // [m] inverse norms, or null
  acc_type<T> inv_t;

  __device__ acc_type<T> inv_at(int64_t i) const { return inv ? inv[i] : acc_type<T>(1); }
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

template <typename T>
__global__ void __launch_bounds__(kThreads)
    inv_norm_kernel(int64_t m, int64_t d, const T* z, acc_type<T>* inv) {
  using A = acc_type<T>;
  constexpr int kWarps = kThreads / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int64_t step = static_cast<int64_t>(gridDim.x) * kWarps;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32; i < m; i += step) {
    A sum = 0;
    for (int64_t c = lane; c < d; c += 32) {
      const A v = cast_element<A>(z[i * d + c]);
      sum += v * v;
    }
    sum = group_sum<32>(sum);
    if (lane == 0) inv[i] = nm::inv_norm(sum);
  }
}

// col_scale[c] = inv of column col0 + c (1 outside); visible after the next s_tile's barriers.
template <int BN, typename T>
__device__ void load_col_scale(acc_type<T>* col_scale, const Problem<T>& p, int64_t col0) {
  for (int c = static_cast<int>(threadIdx.x); c < BN; c += kThreads)
    col_scale[c] = col0 + c < p.m ? p.inv_at(col0 + c) : acc_type<T>(1);
}

template <typename T, typename P>
__global__ void __launch_bounds__(kThreads)
    nt_xent_forward_kernel(Problem<T> p, acc_type<T>* row_loss, acc_type<T>* row_lse) {
  using A = acc_type<T>;
  constexpr int BM = P::BM, BN = P::BN, TPR = kThreads / BM;
  static_assert(TPR >= 1 && TPR <= 32 && 32 % TPR == 0, "row groups must tile a warp");
  __shared__ typename P::Smem sm;
  __shared__ A col_scale[BN];
  const int r = static_cast<int>(threadIdx.x) / TPR, lane = static_cast<int>(threadIdx.x) % TPR;
  for (int64_t tile = static_cast<int64_t>(blockIdx.x) * BM; tile < p.rows;
       tile += static_cast<int64_t>(gridDim.x) * BM) {
    const int64_t gi = p.row_offset + tile + r;  // this group's global row
    const int64_t pos = (gi + p.m / 2) % p.m;
    const bool row_ok = tile + r < p.rows;
    const A row_scale = p.inv_t * (row_ok ? p.inv_at(gi) : A(1));
    A run_max = -INFINITY, run_sum = 0, s_pos = 0;
    for (int64_t col0 = 0; col0 < p.m; col0 += BN) {
      load_col_scale<BN>(col_scale, p, col0);
      P::s_tile(sm, p.z, p.m, p.d, p.row_offset + tile, p.row_offset + p.rows, col0);
      const auto s_at = [&](int c) { return P::s_at(sm, r, c) * row_scale * col_scale[c]; };
      A tile_max = -INFINITY;
      for (int c = lane; c < BN; c += TPR) {
        const int64_t gj = col0 + c;
        if (gj < p.m && gj != gi) tile_max = ::max(tile_max, s_at(c));
      }
      tile_max = group_max<TPR>(tile_max);
      const A new_max = ::max(run_max, tile_max);
      // new_max is -inf only when no valid column has been seen yet; then tile_sum stays 0.
      const A shift = new_max == -INFINITY ? A(0) : new_max;
      A tile_sum = 0;
      for (int c = lane; c < BN; c += TPR) {
        const int64_t gj = col0 + c;
        const A s = s_at(c);
        if (gj < p.m && gj != gi) tile_sum += math::exp(s - shift);
        if (gj == pos) s_pos = s;
      }
      tile_sum = group_sum<TPR>(tile_sum);
      run_sum = (run_max == -INFINITY ? A(0) : run_sum * math::exp(run_max - shift)) + tile_sum;
      run_max = new_max;
      __syncthreads();  // sm.s and col_scale are rewritten by the next tile
    }
    s_pos = group_sum<TPR>(s_pos);  // exactly one lane of the group saw pos
    if (row_ok && lane == 0) {
      const A lse = run_max + math::log(run_sum);
      row_lse[tile + r] = lse;
      row_loss[tile + r] = lse - s_pos;
    }
  }
}

// One row's state in the backward W pass: its scales, its log-sum-exp, and the sums that give the
// normalization's radial term.
template <typename A>
struct BackwardRow {
  int64_t k, pos;
  bool ok;
  A inv_k, row_scale, lse_k;
  A w_s_sum = 0, s_pos = 0;
};

// W in place of S for one tile: row r's columns lane, lane + TPR, ... (each element read and
// written by the same thread), scaled by the column's inverse norm for the product with Z_cols.
template <int TPR, typename T, typename P>
__device__ void w_tile(typename P::Smem& sm, const acc_type<T>* col_scale, const Problem<T>& p,
                       const acc_type<T>* lse, int64_t col0, int r, int lane,
                       BackwardRow<acc_type<T>>& row) {
  using A = acc_type<T>;
  for (int c = lane; c < P::BN; c += TPR) {
    const int64_t gj = col0 + c;
    A w = 0;
    if (row.ok && gj < p.m && gj != row.k) {
      const A s = P::s_at(sm, r, c) * row.row_scale * col_scale[c];
      w = math::exp(s - row.lse_k) + math::exp(s - lse[gj]);
      row.w_s_sum += w * s;
      if (gj == row.pos) row.s_pos = s;
    }
    P::set_w(sm, r, c, w * col_scale[c]);
  }
}

// grad = nt_xent_math::grad for the tile's rows and the chunk's columns; G is in sm.s.
template <typename T, typename P>
__device__ void write_grad(const typename P::Smem& sm, const acc_type<T>* radial,
                           const Problem<T>& p, int64_t tile, int64_t c0, acc_type<T> scale,
                           T* grad) {
  using A = acc_type<T>;
  for (int e = static_cast<int>(threadIdx.x); e < P::BM * P::BN; e += kThreads) {
    const int r = e / P::BN, c = e % P::BN;
    const int64_t gc = c0 + c;
    if (tile + r < p.rows && gc < p.d) {
      const int64_t gk = p.row_offset + tile + r, pos = (gk + p.m / 2) % p.m;
      const A inv_k = p.inv_at(gk);
      const A zhat_pos = cast_element<A>(p.z[pos * p.d + gc]) * p.inv_at(pos);
      const A zhat_k = cast_element<A>(p.z[gk * p.d + gc]) * inv_k;
      grad[(tile + r) * p.d + gc] =
          cast_element<T>(nm::grad(scale, sm.s[r][c], zhat_pos, zhat_k, inv_k, radial[r]));
    }
  }
}

template <typename T, typename P>
__global__ void __launch_bounds__(kThreads)
    nt_xent_backward_kernel(Problem<T> p, const acc_type<T>* lse, acc_type<T> scale, T* grad) {
  using A = acc_type<T>;
  constexpr int BM = P::BM, BN = P::BN, TPR = kThreads / BM;
  __shared__ typename P::Smem sm;
  __shared__ A col_scale[BN];
  __shared__ A radial[BM];
  const int r = static_cast<int>(threadIdx.x) / TPR, lane = static_cast<int>(threadIdx.x) % TPR;
  for (int64_t tile = static_cast<int64_t>(blockIdx.x) * BM; tile < p.rows;
       tile += static_cast<int64_t>(gridDim.x) * BM) {
    for (int64_t c0 = static_cast<int64_t>(blockIdx.y) * BN; c0 < p.d;
         c0 += static_cast<int64_t>(gridDim.y) * BN) {
      BackwardRow<A> row;
      row.k = p.row_offset + tile + r;
      row.pos = (row.k + p.m / 2) % p.m;
      row.ok = tile + r < p.rows;
      row.inv_k = row.ok ? p.inv_at(row.k) : A(1);
      row.row_scale = p.inv_t * row.inv_k;
      row.lse_k = row.ok ? lse[row.k] : A(0);
      typename P::GAcc g;
      P::g_zero(g);
      for (int64_t col0 = 0; col0 < p.m; col0 += BN) {
        load_col_scale<BN>(col_scale, p, col0);
        P::s_tile(sm, p.z, p.m, p.d, p.row_offset + tile, p.row_offset + p.rows, col0);
        w_tile<TPR, T, P>(sm, col_scale, p, lse, col0, r, lane, row);
        P::load_zc(sm, p.z, p.m, p.d, col0, c0);
        __syncthreads();
        P::g_accumulate(sm, g);
        __syncthreads();  // W, Z_cols and col_scale are rewritten by the next tile
      }
      const A w_s_sum = group_sum<TPR>(row.w_s_sum), s_pos = group_sum<TPR>(row.s_pos);
      if (lane == 0)
        radial[r] = p.inv ? nm::radial(scale, p.inv_t, w_s_sum, s_pos, row.inv_k) : A(0);
      P::g_store(sm, g);
      __syncthreads();
      write_grad<T, P>(sm, radial, p, tile, c0, scale, grad);
      __syncthreads();  // sm.s and radial are rewritten by the next chunk
    }
  }
}

unsigned row_tiles(int64_t rows, int bm) {
  return static_cast<unsigned>(std::min<int64_t>((rows + bm - 1) / bm, (int64_t{1} << 31) - 1));
}

template <typename T>
Problem<T> problem(const NtXentArgs& a) {
  using A = acc_type<T>;
  return Problem<T>{a.rows,
                    a.row_offset,
                    a.m,
                    a.d,
                    static_cast<const T*>(a.z),
                    static_cast<const A*>(a.inv_norm),
                    static_cast<A>(a.inv_temperature)};
}

// Calls f with the tile policy for T: f32 on TF32 tensor cores when asked, else PolicyFor<T>.
template <typename T, typename F>
void with_policy(bool tf32, const F& f) {
  if constexpr (std::is_same_v<T, float>) {
    if (tf32) return f(nt_xent_tiles::MmaPolicy<nt_xent_tiles::Tf32Mma>{});
  }
  f(typename nt_xent_tiles::PolicyFor<T>::type{});
}

}  // namespace

void nt_xent_inv_norm(DType dtype, int64_t m, int64_t d, const void* z, void* inv_norm,
                      Stream stream) {
  if (m <= 0) return;
  dispatch_floating(dtype, "nt_xent_inv_norm", [&](auto tag) {
    using T = typename decltype(tag)::type;
    LaunchGuard guard(stream);
    inv_norm_kernel<T><<<grid_for(m * 32), kThreads, 0, raw(stream)>>>(
        m, d, static_cast<const T*>(z), static_cast<acc_type<T>*>(inv_norm));
    SIMCLR_CUDA_CHECK(cudaGetLastError());
  });
}

void nt_xent_forward(const NtXentArgs& args, void* row_loss, void* row_lse, Stream stream) {
  if (args.rows <= 0) return;
  dispatch_floating(args.dtype, "nt_xent_forward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    with_policy<T>(args.tf32, [&](auto policy) {
      using P = decltype(policy);
      LaunchGuard guard(stream);
      nt_xent_forward_kernel<T, P><<<row_tiles(args.rows, P::BM), kThreads, 0, raw(stream)>>>(
          problem<T>(args), static_cast<A*>(row_loss), static_cast<A*>(row_lse));
      SIMCLR_CUDA_CHECK(cudaGetLastError());
    });
  });
}

void nt_xent_backward(const NtXentArgs& args, const void* lse, double scale, void* grad_rows,
                      Stream stream) {
  if (args.rows <= 0 || args.d <= 0) return;
  dispatch_floating(args.dtype, "nt_xent_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    with_policy<T>(args.tf32, [&](auto policy) {
      using P = decltype(policy);
      const dim3 grid(row_tiles(args.rows, P::BM), static_cast<unsigned>(std::min<int64_t>(
                                                       (args.d + P::BN - 1) / P::BN, 65535)));
      LaunchGuard guard(stream);
      nt_xent_backward_kernel<T, P>
          <<<grid, kThreads, 0, raw(stream)>>>(problem<T>(args), static_cast<const A*>(lse),
                                               static_cast<A>(scale), static_cast<T*>(grad_rows));
      SIMCLR_CUDA_CHECK(cudaGetLastError());
    });
  });
}

}  // namespace simclr::cuda
