// NT-Xent, the reference: plain loops over the rows this call owns and all m columns, every dot
// product and sum in fp64 (kernels/kernel_decls.inc gives the contract, kernels/nt_xent.h the
// math and the pair convention). With inv_norm the rows are scaled on the fly, and the gradient
// goes through the normalization with the same per-row math as the CUDA kernels
// (kernels/nt_xent_math.h).
#include <cmath>
#include <vector>

#include "kernels/backends.h"
#include "kernels/cast.h"
#include "kernels/nt_xent_math.h"

namespace simclr::cpu {

namespace {

namespace nm = nt_xent_math;

// z's rows as the loss sees them: scaled by their inverse norms when those are given.
template <typename T, typename A>
struct Rows {
  const T* z;
  const A* inv;  // null: no normalization
  int64_t d;

  double scale(int64_t i) const { return inv ? static_cast<double>(inv[i]) : 1.0; }
  double at(int64_t i, int64_t c) const { return cast_element<double>(z[i * d + c]) * scale(i); }
  double dot(int64_t i, int64_t j) const {
    double acc = 0;
    for (int64_t k = 0; k < d; ++k)
      acc += cast_element<double>(z[i * d + k]) * cast_element<double>(z[j * d + k]);
    return acc * scale(i) * scale(j);
  }
};

template <typename T, typename A>
Rows<T, A> rows_of(const NtXentArgs& a) {
  return Rows<T, A>{static_cast<const T*>(a.z), static_cast<const A*>(a.inv_norm), a.d};
}

// log sum_{j != i} exp(s_ij), max-shifted.
template <typename R>
double row_lse(const R& z, int64_t m, int64_t i, double inv_t) {
  std::vector<double> s(static_cast<size_t>(m));
  double max = -INFINITY;
  for (int64_t j = 0; j < m; ++j) {
    if (j == i) continue;
    s[j] = inv_t * z.dot(i, j);
    max = std::max(max, s[j]);
  }
  double sum = 0;
  for (int64_t j = 0; j < m; ++j)
    if (j != i) sum += std::exp(s[j] - max);
  return max + std::log(sum);
}

}  // namespace

void nt_xent_inv_norm(DType dtype, int64_t m, int64_t d, const void* z_ptr, void* inv_norm,
                      Stream) {
  dispatch_floating(dtype, "nt_xent_inv_norm", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    const T* z = static_cast<const T*>(z_ptr);
    A* inv = static_cast<A*>(inv_norm);
    for (int64_t i = 0; i < m; ++i) {
      double sum = 0;
      for (int64_t c = 0; c < d; ++c) {
        const double v = cast_element<double>(z[i * d + c]);
        sum += v * v;
      }
      inv[i] = static_cast<A>(nm::inv_norm(sum));
    }
  });
}

void nt_xent_forward(const NtXentArgs& a, void* row_loss, void* row_lse_ptr, Stream) {
  dispatch_floating(a.dtype, "nt_xent_forward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    const Rows<T, A> z = rows_of<T, A>(a);
    A* loss = static_cast<A*>(row_loss);
    A* lse = static_cast<A*>(row_lse_ptr);
    for (int64_t r = 0; r < a.rows; ++r) {
      const int64_t i = r + a.row_offset;
      const int64_t pos = (i + a.m / 2) % a.m;
      const double l = row_lse(z, a.m, i, a.inv_temperature);
      lse[r] = static_cast<A>(l);
      loss[r] = static_cast<A>(l - a.inv_temperature * z.dot(i, pos));
    }
  });
}

void nt_xent_backward(const NtXentArgs& a, const void* lse_ptr, double scale, void* grad_rows,
                      Stream) {
  dispatch_floating(a.dtype, "nt_xent_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    const Rows<T, A> z = rows_of<T, A>(a);
    const A* lse = static_cast<const A*>(lse_ptr);
    T* grad = static_cast<T*>(grad_rows);
    const double inv_t = a.inv_temperature;
    std::vector<double> g(static_cast<size_t>(a.d));
    for (int64_t r = 0; r < a.rows; ++r) {
      const int64_t k = r + a.row_offset;
      const int64_t pos = (k + a.m / 2) % a.m;
      double w_s_sum = 0;  // sum_j W_kj s_kj, for the normalization's radial term
      for (int64_t c = 0; c < a.d; ++c) g[c] = 0;
      for (int64_t j = 0; j < a.m; ++j) {
        if (j == k) continue;
        const double s = inv_t * z.dot(k, j);  // s_kj = s_jk
        const double w =
            std::exp(s - static_cast<double>(lse[k])) + std::exp(s - static_cast<double>(lse[j]));
        w_s_sum += w * s;
        const double w_inv = w * z.scale(j);  // w zhat_j = (w inv_j) z_j
        for (int64_t c = 0; c < a.d; ++c) g[c] += w_inv * cast_element<double>(z.z[j * a.d + c]);
      }
      const double inv_k = z.scale(k);
      const double radial =
          a.inv_norm ? nm::radial(scale, inv_t, w_s_sum, inv_t * z.dot(k, pos), inv_k) : 0.0;
      for (int64_t c = 0; c < a.d; ++c)
        grad[r * a.d + c] =
            cast_element<T>(nm::grad(scale, g[c], z.at(pos, c), z.at(k, c), inv_k, radial));
    }
  });
}

}  // namespace simclr::cpu
