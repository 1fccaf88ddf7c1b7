// Direct NHWC convolution in f32 on AVX-512. im2col copies every input pixel r*s times and BLAS
// then packs that copy again, which costs more than the products themselves at the 16-128
// channels of the CPU training default. Here each image is copied once, with its padding, into a
// per-thread buffer, and the products read it in place:
//   forward          a tile of QB output pixels x 16*KB output channels lives in QB*KB vector
//                    registers; each (tap, input channel) adds one broadcast input value times
//                    KB weight vectors (filters relaid out as [r, s, c, k], k contiguous);
//   backward filter  a tile of CB input channels x 16*KB output channels of one tap lives in
//                    registers and sums grad_y vectors times broadcast inputs over an image.
// Images run in parallel on the CPU thread pool; backward filter keeps one partial sum per slot
// of images (bounds set by the shape alone) and adds them in slot order, so results do not depend
// on the thread count. Vectors are GCC vector extensions compiled for AVX-512F only, and only run
// after a runtime check: other CPUs keep im2col + OpenBLAS.
#include "kernels/cpu/conv2d_direct.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>
#include <vector>

#include "core/error.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/scratch.h"

namespace simclr::cpu {

#if defined(__x86_64__) && defined(__GNUC__)

namespace {

#define SIMCLR_AVX512 __attribute__((target("avx512f")))
using v16 = float __attribute__((vector_size(64)));
constexpr int64_t kLanes = 16;
// Backward filter: at most this many partial sums of grad_w, and at most this many bytes of them.
constexpr int64_t kMaxSlots = 16;
constexpr int64_t kPartialBytes = int64_t{64} << 20;
// Backward filter: images per group, up to about this many bytes of input and gradient, and
// output rows per pass over a group (kernels/cpu/conv2d_direct.cpp: filter_images).
constexpr int64_t kGroupBytes = int64_t{32} << 10;
constexpr int64_t kChunkBytes = int64_t{32} << 10;

// One image of x with its padding written out as zeros: [hp, wp, c], hp = h + 2 pad_h.
struct Padded {
  int64_t hp, wp;
  explicit Padded(const ConvShape& g) : hp(g.h + 2 * g.pad_h), wp(g.w + 2 * g.pad_w) {}
  int64_t size(const ConvShape& g) const { return hp * wp * g.c; }
};

// Only the padding is zeroed: the rest is copied over.
void pad_image(const ConvShape& g, const Padded& f, const float* x, float* out) {
  const int64_t c = g.c, row = f.wp * c, left = g.pad_w * c, width = g.w * c;
  std::fill_n(out, g.pad_h * row, 0.0f);
  for (int64_t ih = 0; ih < g.h; ++ih) {
    float* dst = out + (ih + g.pad_h) * row;
    std::fill_n(dst, left, 0.0f);
    std::memcpy(dst + left, x + ih * width, static_cast<size_t>(width) * sizeof(float));
    std::fill(dst + left + width, dst + row, 0.0f);
  }
  std::fill(out + (g.h + g.pad_h) * row, out + f.size(g), 0.0f);
}

// Vectors of output channels per tile: 4, 2 or 1, whichever divides k / 16.
int64_t k_vectors(const ConvShape& g) {
  const int64_t v = g.k / kLanes;
  return v % 4 == 0 ? 4 : v % 2 == 0 ? 2 : 1;
}

// y for one image from its padded copy xp; wt is [r, s, c, k].
template <int QB, int KB>
SIMCLR_AVX512 void forward_image(const ConvShape& g, const float* xp, int64_t wp, const float* wt,
                                 float* y) {
  const int64_t c = g.c, k = g.k, step = g.stride_w * c;
  for (int64_t op = 0; op < g.p; ++op) {
    for (int64_t oq0 = 0; oq0 < g.q; oq0 += QB) {
      const int64_t oq = std::min(oq0, g.q - QB);  // the last tile may overlap the one before
      for (int64_t kb = 0; kb < k; kb += KB * kLanes) {
        v16 acc[QB][KB] = {};
        for (int64_t u = 0; u < g.r; ++u) {
          const float* row = xp + ((op * g.stride_h + u * g.dilation_h) * wp + oq * g.stride_w) * c;
          for (int64_t v = 0; v < g.s; ++v) {
            const float* px = row + v * g.dilation_w * c;
            const float* wv = wt + (u * g.s + v) * c * k + kb;
            for (int64_t ch = 0; ch < c; ++ch, wv += k) {
              v16 wr[KB];
#pragma GCC unroll 16
              for (int b = 0; b < KB; ++b) std::memcpy(&wr[b], wv + b * kLanes, sizeof(v16));
#pragma GCC unroll 16
              for (int j = 0; j < QB; ++j) {
                const float xs = px[j * step + ch];
#pragma GCC unroll 16
                for (int b = 0; b < KB; ++b) acc[j][b] += xs * wr[b];
              }
            }
          }
        }
        float* out = y + (op * g.q + oq) * k + kb;
#pragma GCC unroll 16
        for (int j = 0; j < QB; ++j)
#pragma GCC unroll 16
          for (int b = 0; b < KB; ++b)
            std::memcpy(out + j * k + b * kLanes, &acc[j][b], sizeof(v16));
      }
    }
  }
}

// part [r, s, c, k] += the products of `images` consecutive images (padded copies xp, `f` apart;
// gradients gy [images, p, q, k]). The output rows of the group run in chunks that fit in L1, and
// every (output channel vector, tap, input channel) tile makes one pass over a chunk with its
// accumulators in registers: several small images share a pass, and a large image is not
// streamed from memory once per tile.
template <int CB, int KB>
SIMCLR_AVX512 void filter_images(const ConvShape& g, const Padded& f, const float* xp,
                                 int64_t images, const float* gy, float* part) {
  const int64_t c = g.c, k = g.k, step = g.stride_w * c, x_image = f.size(g);
  const int64_t row_bytes = (g.q * k + f.wp * c * g.stride_h) * 4;
  const int64_t chunk = std::max<int64_t>(1, kChunkBytes / row_bytes);
  for (int64_t row0 = 0; row0 < images * g.p; row0 += chunk) {
    const int64_t row1 = std::min(images * g.p, row0 + chunk);
    for (int64_t kb = 0; kb < k; kb += KB * kLanes) {
      for (int64_t tap = 0; tap < g.r * g.s; ++tap) {
        const int64_t u = tap / g.s, v = tap % g.s;
        for (int64_t c0 = 0; c0 < c; c0 += CB) {
          float* out = part + (tap * c + c0) * k + kb;
          v16 acc[CB][KB];
#pragma GCC unroll 16
          for (int cc = 0; cc < CB; ++cc)
#pragma GCC unroll 16
            for (int b = 0; b < KB; ++b)
              std::memcpy(&acc[cc][b], out + cc * k + b * kLanes, sizeof(v16));
          const float* gr = gy + row0 * g.q * k + kb;
          for (int64_t row = row0; row < row1; ++row) {
            const int64_t img = row / g.p, op = row % g.p;
            const float* xs = xp + img * x_image +
                              ((op * g.stride_h + u * g.dilation_h) * f.wp + v * g.dilation_w) * c +
                              c0;
            for (int64_t oq = 0; oq < g.q; ++oq, xs += step, gr += k) {
              v16 gv[KB];
#pragma GCC unroll 16
              for (int b = 0; b < KB; ++b) std::memcpy(&gv[b], gr + b * kLanes, sizeof(v16));
#pragma GCC unroll 16
              for (int cc = 0; cc < CB; ++cc)
#pragma GCC unroll 16
                for (int b = 0; b < KB; ++b) acc[cc][b] += xs[cc] * gv[b];
            }
          }
#pragma GCC unroll 16
          for (int cc = 0; cc < CB; ++cc)
#pragma GCC unroll 16
            for (int b = 0; b < KB; ++b)
              std::memcpy(out + cc * k + b * kLanes, &acc[cc][b], sizeof(v16));
        }
      }
    }
  }
}

using ForwardFn = void (*)(const ConvShape&, const float*, int64_t, const float*, float*);
using FilterFn = void (*)(const ConvShape&, const Padded&, const float*, int64_t, const float*,
                          float*);

template <int KB, int... Q>
constexpr std::array<ForwardFn, sizeof...(Q)> forward_table(std::integer_sequence<int, Q...>) {
  return {&forward_image<Q + 1, KB>...};
}

// The forward tile, KB vectors of output channels by QB pixels (at most 24 accumulators), that
// computes the most per load: FMAs per load (QB * KB / (QB + KB)) times the useful share of the
// pixels (a last tile that overlaps the one before recomputes), less when fewer than 8
// independent sums leave the FMA units waiting.
ForwardFn pick_forward(const ConvShape& g) {
  static const auto t1 = forward_table<1>(std::make_integer_sequence<int, 14>());
  static const auto t2 = forward_table<2>(std::make_integer_sequence<int, 10>());
  static const auto t4 = forward_table<4>(std::make_integer_sequence<int, 6>());
  ForwardFn best = nullptr;
  double best_score = -1.0;
  const auto consider = [&](const auto& table, int kb) {
    if ((g.k / kLanes) % kb != 0) return;
    for (int64_t qb = 1; qb <= std::min<int64_t>(g.q, std::ssize(table)); ++qb) {
      const double tiles = static_cast<double>((g.q + qb - 1) / qb);
      const double sums = static_cast<double>(qb * kb);
      const double score = static_cast<double>(g.q) / (tiles * static_cast<double>(qb)) * sums /
                           static_cast<double>(qb + kb) * std::min(1.0, sums / 8.0);
      if (score > best_score) {
        best_score = score;
        best = table[static_cast<size_t>(qb - 1)];
      }
    }
  };
  consider(t4, 4);
  consider(t2, 2);
  consider(t1, 1);
  return best;
}

// The backward filter tile: KB vectors of output channels by CB input channels, CB * KB <= 16,
// CB a power of two that divides c.
FilterFn pick_filter(const ConvShape& g) {
  const int64_t kb = k_vectors(g);
  int64_t cb = 16 / kb;
  while (g.c % cb != 0) cb /= 2;
  static const FilterFn fns[3][5] = {
      {&filter_images<1, 1>, &filter_images<2, 1>, &filter_images<4, 1>, &filter_images<8, 1>,
       &filter_images<16, 1>},
      {&filter_images<1, 2>, &filter_images<2, 2>, &filter_images<4, 2>, &filter_images<8, 2>,
       nullptr},
      {&filter_images<1, 4>, &filter_images<2, 4>, &filter_images<4, 4>, nullptr, nullptr}};
  const int row = kb == 4 ? 2 : kb == 2 ? 1 : 0;
  const int col = cb == 16 ? 4 : cb == 8 ? 3 : cb == 4 ? 2 : cb == 2 ? 1 : 0;
  return fns[row][col];
}

}  // namespace

bool conv2d_direct_supported(const ConvShape& g) {
  static const bool avx512 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  const bool pointwise =
      g.r == 1 && g.s == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 && g.pad_w == 0;
  return avx512 && g.k % kLanes == 0 && !pointwise;
}

void conv2d_direct_forward(const ConvShape& g, const float* x, const float* w, float* y) {
  const int64_t rsc = g.r * g.s * g.c;
  std::vector<float> wt(static_cast<size_t>(g.k * rsc));
  for (int64_t m = 0; m < g.k; ++m)
    for (int64_t i = 0; i < rsc; ++i) wt[static_cast<size_t>(i * g.k + m)] = w[m * rsc + i];
  const ForwardFn image_fn = pick_forward(g);
  const Padded f(g);
  parallel_for(g.n, [&](int64_t img) {
    float* xp = scratch<float>(static_cast<size_t>(f.size(g)));
    pad_image(g, f, x + img * g.h * g.w * g.c, xp);
    image_fn(g, xp, f.wp, wt.data(), y + img * g.p * g.q * g.k);
  });
}

void conv2d_direct_backward_filter(const ConvShape& g, const float* x, const float* grad_y,
                                   float* grad_w) {
  const int64_t rsc = g.r * g.s * g.c, size = g.k * rsc;
  const int64_t fit = std::max<int64_t>(1, kPartialBytes / (size * 4));
  const int64_t slots = std::min({kMaxSlots, fit, g.n});
  std::vector<float> partial(static_cast<size_t>(slots * size), 0.0f);
  const FilterFn images_fn = pick_filter(g);
  const Padded f(g);
  const int64_t image_bytes = (f.size(g) + g.p * g.q * g.k) * 4;
  const int64_t group = std::max<int64_t>(1, kGroupBytes / image_bytes);
  parallel_for(slots, [&](int64_t slot) {
    const int64_t end = (slot + 1) * g.n / slots;
    float* xp = scratch<float>(static_cast<size_t>(std::min(group, end) * f.size(g)));
    for (int64_t img0 = slot * g.n / slots; img0 < end; img0 += group) {
      const int64_t images = std::min(group, end - img0);
      for (int64_t i = 0; i < images; ++i)
        pad_image(g, f, x + (img0 + i) * g.h * g.w * g.c, xp + i * f.size(g));
      images_fn(g, f, xp, images, grad_y + img0 * g.p * g.q * g.k, partial.data() + slot * size);
    }
  });
  float* total = partial.data();
  for (int64_t slot = 1; slot < slots; ++slot) {
    const float* p = partial.data() + slot * size;
    for (int64_t i = 0; i < size; ++i) total[i] += p[i];
  }
  for (int64_t i = 0; i < rsc; ++i)
    for (int64_t m = 0; m < g.k; ++m) grad_w[m * rsc + i] = total[i * g.k + m];
}

#else  // no AVX-512 code path on this compiler or architecture

bool conv2d_direct_supported(const ConvShape&) {
  return false;
}
void conv2d_direct_forward(const ConvShape&, const float*, const float*, float*) {
  SIMCLR_THROW("conv2d_direct_forward: not built for this architecture");
}
void conv2d_direct_backward_filter(const ConvShape&, const float*, const float*, float*) {
  SIMCLR_THROW("conv2d_direct_backward_filter: not built for this architecture");
}

#endif

}  // namespace simclr::cpu
