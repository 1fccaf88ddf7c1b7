// conv2d on the CPU: im2col + OpenBLAS. With NHWC activations and [k, r, s, c] filters the
// convolution is one matrix product per chunk of output pixels:
//   cols [rows, r*s*c]: row (img, op, oq) holds the input patch under output pixel (op, oq) of
//                       image img, tap by tap, c channels per tap (zeros where the tap falls in
//                       the padding);
//   forward          y [rows, k]       = cols x w^T            (w seen as [k, r*s*c]);
//   backward filter  grad_w [k, r*s*c] = grad_y^T x cols       (summed over the chunks);
//   backward data    grad_cols         = grad_y x w, then col2im adds each patch back into grad_x.
// rows = n*p*q and y is NHWC, so the products write y (and read grad_y) in place. The rows are
// processed in chunks so that the cols buffer stays under kColsBytes; a 1x1 convolution with
// stride 1 and no padding needs no cols at all (x itself is the [n*h*w, c] matrix), and a
// stride-1 backward data runs as a forward convolution (see backward_data_as_forward). Pieces of
// whole images run on the CPU thread pool (kernels/cpu/parallel.h), each with its own cols buffer
// and one single-threaded BLAS call per chunk; backward filter sums per-slot partials in slot
// order. f32 with k % 16 == 0 on a CPU with AVX-512 skips all this for the direct kernels of
// kernels/cpu/conv2d_direct.cpp (forward, backward filter, and backward data through the forward).
// f32 and f64 run directly; bf16 and f16 are widened to f32, computed with fp32 accumulation and
// rounded once, as the GPU does. The op (kernels/conv2d.cpp) calls these with every size positive.
#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "kernels/backends.h"
#include "kernels/cast.h"
#include "kernels/cpu/conv2d_direct.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/scratch.h"

namespace simclr::cpu {

namespace {

// The largest cols (or grad_cols) buffer of one chunk. Chunks that stay in cache between im2col
// and the product are faster than one large cols matrix: on 2 cores, 4 to 8 MiB ran the
// [256, 28, 28, 16] 3x3 convolution about 1.5x faster than 64 MiB.
constexpr size_t kColsBytes = size_t{8} << 20;
// Rows of one piece of a 1x1 backward data product.
constexpr int64_t kPointwiseRows = 4096;
// Backward filter: at most this many partial sums of grad_w, and at most this many bytes of them.
constexpr int64_t kMaxSlots = 16;
constexpr int64_t kPartialBytes = int64_t{64} << 20;

int blas_int(int64_t v) {
  SIMCLR_CHECK(v <= std::numeric_limits<int>::max(), "conv2d: dimension ", v,
               " exceeds the range of a BLAS int");
  return static_cast<int>(v);
}

// Row-major C[m, n] = op(A) op(B) + beta C.
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              blas_int(m), blas_int(n), blas_int(k), 1.0f, a, blas_int(lda), b, blas_int(ldb), beta,
              c, blas_int(ldc));
}
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
              blas_int(m), blas_int(n), blas_int(k), 1.0, a, blas_int(lda), b, blas_int(ldb), beta,
              c, blas_int(ldc));
}

bool pointwise(const ConvShape& g) {
  return g.r == 1 && g.s == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 && g.pad_w == 0;
}

int64_t chunk_rows(const ConvShape& g, size_t element_bytes) {
  const int64_t rows = g.n * g.p * g.q;
  const int64_t rsc = g.r * g.s * g.c;
  const int64_t fit = static_cast<int64_t>(kColsBytes / (static_cast<size_t>(rsc) * element_bytes));
  return std::clamp<int64_t>(fit, 1, rows);
}

// Walks output pixels row0, row0 + 1, ... as (image, op, oq) without a division per row.
struct Pixel {
  int64_t img, op, oq;
  Pixel(const ConvShape& g, int64_t row)
      : img(row / (g.p * g.q)), op((row / g.q) % g.p), oq(row % g.q) {}
  void next(const ConvShape& g) {
    if (++oq == g.q) {
      oq = 0;
      if (++op == g.p) {
        op = 0;
        ++img;
      }
    }
  }
};

// cols[row - row0] = the patch of output pixel `row`, for rows [row0, row1).
template <typename T>
void im2col(const ConvShape& g, const T* x, int64_t row0, int64_t row1, T* cols) {
  const int64_t c = g.c, sc = g.s * c;
  const size_t c_bytes = static_cast<size_t>(c) * sizeof(T);
  T* dst = cols;
  Pixel px(g, row0);
  for (int64_t row = row0; row < row1; ++row, px.next(g)) {
    const T* image = x + px.img * g.h * g.w * c;
    const int64_t ih0 = px.op * g.stride_h - g.pad_h, iw0 = px.oq * g.stride_w - g.pad_w;
    // All s taps of a kernel row inside the image and adjacent: one copy of s*c values.
    const bool span = g.dilation_w == 1 && iw0 >= 0 && iw0 + g.s <= g.w;
    for (int64_t i = 0; i < g.r; ++i) {
      const int64_t ih = ih0 + i * g.dilation_h;
      if (ih < 0 || ih >= g.h) {
        std::fill_n(dst, sc, T(0));
        dst += sc;
        continue;
      }
      const T* src = image + ih * g.w * c;
      if (span) {
        std::memcpy(dst, src + iw0 * c, static_cast<size_t>(sc) * sizeof(T));
        dst += sc;
        continue;
      }
      for (int64_t j = 0; j < g.s; ++j, dst += c) {
        const int64_t iw = iw0 + j * g.dilation_w;
        if (iw < 0 || iw >= g.w) {
          std::fill_n(dst, c, T(0));
        } else {
          std::memcpy(dst, src + iw * c, c_bytes);
        }
      }
    }
  }
}

// The adjoint of im2col: adds each patch of grad_cols back into grad_x (taps in the padding are
// dropped).
template <typename T>
void col2im(const ConvShape& g, const T* cols, int64_t row0, int64_t row1, T* grad_x) {
  const int64_t c = g.c, sc = g.s * c;
  const T* src = cols;
  Pixel px(g, row0);
  for (int64_t row = row0; row < row1; ++row, px.next(g)) {
    T* image = grad_x + px.img * g.h * g.w * c;
    const int64_t ih0 = px.op * g.stride_h - g.pad_h, iw0 = px.oq * g.stride_w - g.pad_w;
    const bool span = g.dilation_w == 1 && iw0 >= 0 && iw0 + g.s <= g.w;
    for (int64_t i = 0; i < g.r; ++i) {
      const int64_t ih = ih0 + i * g.dilation_h;
      if (ih < 0 || ih >= g.h) {
        src += sc;
        continue;
      }
      T* dst = image + ih * g.w * c;
      if (span) {
        T* d = dst + iw0 * c;
        for (int64_t e = 0; e < sc; ++e) d[e] += src[e];
        src += sc;
        continue;
      }
      for (int64_t j = 0; j < g.s; ++j, src += c) {
        const int64_t iw = iw0 + j * g.dilation_w;
        if (iw < 0 || iw >= g.w) continue;
        T* d = dst + iw * c;
        for (int64_t e = 0; e < c; ++e) d[e] += src[e];
      }
    }
  }
}

// Images per piece of work: about one chunk of rows, at least one image.
int64_t images_per_piece(const ConvShape& g, int64_t chunk) {
  return std::max<int64_t>(1, chunk / (g.p * g.q));
}

// Calls f(row0, row1) for the output rows of images [img0, img1), at most `chunk` rows at a time.
template <typename F>
void for_chunks(const ConvShape& g, int64_t img0, int64_t img1, int64_t chunk, F&& f) {
  const int64_t pq = g.p * g.q;
  for (int64_t row0 = img0 * pq; row0 < img1 * pq; row0 += chunk)
    f(row0, std::min(row0 + chunk, img1 * pq));
}

// Runs f(img0, img1) over pieces of whole images on the thread pool: pieces never share an output
// row or (for col2im) an input image.
template <typename F>
void for_image_pieces(const ConvShape& g, int64_t chunk, F&& f) {
  const int64_t per = images_per_piece(g, chunk);
  parallel_for((g.n + per - 1) / per, [&](int64_t i) { f(i * per, std::min(g.n, (i + 1) * per)); });
}

template <typename T>
void forward(const ConvShape& g, const T* x, const T* w, T* y) {
  if constexpr (std::is_same_v<T, float>) {
    if (conv2d_direct_supported(g)) return conv2d_direct_forward(g, x, w, y);
  }
  const int64_t rsc = g.r * g.s * g.c;
  const int64_t chunk = chunk_rows(g, sizeof(T));
  for_image_pieces(g, chunk, [&](int64_t img0, int64_t img1) {
    T* cols = pointwise(g) ? nullptr : scratch<T>(static_cast<size_t>(chunk * rsc));
    for_chunks(g, img0, img1, chunk, [&](int64_t row0, int64_t row1) {
      const T* a = x + row0 * rsc;
      if (cols) {
        im2col(g, x, row0, row1, cols);
        a = cols;
      }
      gemm(false, true, row1 - row0, g.k, rsc, a, rsc, w, rsc, T(0), y + row0 * g.k, g.k);
    });
  });
}

// With stride 1 and padding <= dilation * (kernel - 1), grad_x is the forward convolution of
// grad_y with the filters flipped in space and their channels swapped (w'[ch, u, v, m] =
// w[m, r-1-u, s-1-v, ch]), padded by dilation * (kernel - 1) - padding: a gather through im2col
// instead of col2im's scatter-add. With few input channels that product has too few columns to
// run well (a 1-channel stem is 2.5x slower this way), so col2im keeps those.
template <typename T>
bool backward_data_as_forward(const ConvShape& g, const T* grad_y, const T* w, T* grad_x) {
  const int64_t pad_h = g.dilation_h * (g.r - 1) - g.pad_h;
  const int64_t pad_w = g.dilation_w * (g.s - 1) - g.pad_w;
  if (g.stride_h != 1 || g.stride_w != 1 || pad_h < 0 || pad_w < 0 || g.c < 8) return false;
  ConvShape t = g;
  t.h = g.p;
  t.w = g.q;
  t.c = g.k;
  t.k = g.c;
  t.p = g.h;
  t.q = g.w;
  t.pad_h = pad_h;
  t.pad_w = pad_w;
  std::vector<T> flipped(static_cast<size_t>(g.k * g.r * g.s * g.c));
  for (int64_t m = 0; m < g.k; ++m)
    for (int64_t u = 0; u < g.r; ++u)
      for (int64_t v = 0; v < g.s; ++v)
        for (int64_t ch = 0; ch < g.c; ++ch)
          flipped[static_cast<size_t>(((ch * g.r + (g.r - 1 - u)) * g.s + (g.s - 1 - v)) * g.k +
                                      m)] = w[((m * g.r + u) * g.s + v) * g.c + ch];
  forward(t, grad_y, flipped.data(), grad_x);
  return true;
}

template <typename T>
void backward_data(const ConvShape& g, const T* grad_y, const T* w, T* grad_x) {
  const int64_t rsc = g.r * g.s * g.c;
  if (pointwise(g)) {
    parallel_ranges(g.n * g.p * g.q, kPointwiseRows, [&](int64_t row0, int64_t row1) {
      gemm(false, false, row1 - row0, g.c, g.k, grad_y + row0 * g.k, g.k, w, g.c, T(0),
           grad_x + row0 * g.c, g.c);
    });
    return;
  }
  if (backward_data_as_forward(g, grad_y, w, grad_x)) return;
  const int64_t chunk = chunk_rows(g, sizeof(T));
  for_image_pieces(g, chunk, [&](int64_t img0, int64_t img1) {
    const int64_t image = g.h * g.w * g.c;
    std::fill(grad_x + img0 * image, grad_x + img1 * image, T(0));
    T* cols = scratch<T>(static_cast<size_t>(chunk * rsc));
    for_chunks(g, img0, img1, chunk, [&](int64_t row0, int64_t row1) {
      gemm(false, false, row1 - row0, rsc, g.k, grad_y + row0 * g.k, g.k, w, rsc, T(0), cols, rsc);
      col2im(g, cols, row0, row1, grad_x);
    });
  });
}

// grad_w is a sum over every output row: `slots` partial sums, each over a fixed range of images
// (bounds set by the shape alone), are added in slot order, so the result does not depend on the
// thread count.
template <typename T>
void backward_filter(const ConvShape& g, const T* x, const T* grad_y, T* grad_w) {
  if constexpr (std::is_same_v<T, float>) {
    if (conv2d_direct_supported(g)) return conv2d_direct_backward_filter(g, x, grad_y, grad_w);
  }
  const int64_t rsc = g.r * g.s * g.c, size = g.k * rsc;
  const int64_t chunk = chunk_rows(g, sizeof(T));
  const int64_t per = images_per_piece(g, chunk);
  const int64_t fit =
      std::max<int64_t>(1, kPartialBytes / (size * static_cast<int64_t>(sizeof(T))));
  const int64_t slots = std::min({kMaxSlots, fit, (g.n + per - 1) / per});
  std::vector<T> partial(static_cast<size_t>((slots - 1) * size));
  parallel_for(slots, [&](int64_t slot) {
    T* out = slot == 0 ? grad_w : partial.data() + (slot - 1) * size;
    T* cols = pointwise(g) ? nullptr : scratch<T>(static_cast<size_t>(chunk * rsc));
    const int64_t img0 = slot * g.n / slots, img1 = (slot + 1) * g.n / slots;
    for_chunks(g, img0, img1, chunk, [&](int64_t row0, int64_t row1) {
      const T* b = x + row0 * rsc;
      if (cols) {
        im2col(g, x, row0, row1, cols);
        b = cols;
      }
      gemm(true, false, g.k, rsc, row1 - row0, grad_y + row0 * g.k, g.k, b, rsc,
           T(row0 == img0 * g.p * g.q ? 0 : 1), out, rsc);
    });
  });
  for (int64_t slot = 1; slot < slots; ++slot) {
    const T* p = partial.data() + (slot - 1) * size;
    for (int64_t i = 0; i < size; ++i) grad_w[i] += p[i];
  }
}

template <typename T>
std::vector<float> widen(const void* p, int64_t count) {
  const T* in = static_cast<const T*>(p);
  std::vector<float> out(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) out[static_cast<size_t>(i)] = static_cast<float>(in[i]);
  return out;
}

template <typename T>
void narrow(const std::vector<float>& in, void* p) {
  T* out = static_cast<T*>(p);
  for (size_t i = 0; i < in.size(); ++i) out[i] = T(in[i]);
}

int64_t x_count(const ConvShape& g) {
  return g.n * g.h * g.w * g.c;
}
int64_t w_count(const ConvShape& g) {
  return g.k * g.r * g.s * g.c;
}
int64_t y_count(const ConvShape& g) {
  return g.n * g.p * g.q * g.k;
}

}  // namespace

void conv2d_forward(DType dtype, const ConvShape& g, const void* x, const void* w, void* y,
                    Stream) {
  dispatch_floating(dtype, "conv2d_forward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (is_half_v<T>) {
      std::vector<float> out(static_cast<size_t>(y_count(g)));
      forward<float>(g, widen<T>(x, x_count(g)).data(), widen<T>(w, w_count(g)).data(), out.data());
      narrow<T>(out, y);
    } else {
      forward<T>(g, static_cast<const T*>(x), static_cast<const T*>(w), static_cast<T*>(y));
    }
  });
}

void conv2d_backward_data(DType dtype, const ConvShape& g, const void* grad_y, const void* w,
                          void* grad_x, Stream) {
  dispatch_floating(dtype, "conv2d_backward_data", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (is_half_v<T>) {
      std::vector<float> out(static_cast<size_t>(x_count(g)));
      backward_data<float>(g, widen<T>(grad_y, y_count(g)).data(), widen<T>(w, w_count(g)).data(),
                           out.data());
      narrow<T>(out, grad_x);
    } else {
      backward_data<T>(g, static_cast<const T*>(grad_y), static_cast<const T*>(w),
                       static_cast<T*>(grad_x));
    }
  });
}

void conv2d_backward_filter(DType dtype, const ConvShape& g, const void* x, const void* grad_y,
                            void* grad_w, Stream) {
  dispatch_floating(dtype, "conv2d_backward_filter", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (is_half_v<T>) {
      std::vector<float> out(static_cast<size_t>(w_count(g)));
      backward_filter<float>(g, widen<T>(x, x_count(g)).data(), widen<T>(grad_y, y_count(g)).data(),
                             out.data());
      narrow<T>(out, grad_w);
    } else {
      backward_filter<T>(g, static_cast<const T*>(x), static_cast<const T*>(grad_y),
                         static_cast<T*>(grad_w));
    }
  });
}

}  // namespace simclr::cpu
