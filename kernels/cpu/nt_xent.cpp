// NT-Xent, the reference: plain loops over the rows this call owns and all m columns, every dot
// product and sum in fp64 (kernels/kernel_decls.inc gives the contract, kernels/nt_xent.h the
// math and the pair convention).
#include <cmath>
#include <vector>

#include "kernels/backends.h"
#include "kernels/cast.h"

namespace simclr::cpu {

namespace {

template <typename T>
double dot(const T* z, int64_t d, int64_t i, int64_t j) {
  double acc = 0;
  for (int64_t k = 0; k < d; ++k)
    acc += cast_element<double>(z[i * d + k]) * cast_element<double>(z[j * d + k]);
  return acc;
}

// log sum_{j != i} exp(s_ij), max-shifted.
template <typename T>
double row_lse(const T* z, int64_t m, int64_t d, int64_t i, double inv_t) {
  std::vector<double> s(static_cast<size_t>(m));
  double max = -INFINITY;
  for (int64_t j = 0; j < m; ++j) {
    if (j == i) continue;
    s[j] = inv_t * dot(z, d, i, j);
    max = std::max(max, s[j]);
  }
  double sum = 0;
  for (int64_t j = 0; j < m; ++j)
    if (j != i) sum += std::exp(s[j] - max);
  return max + std::log(sum);
}

}  // namespace

void nt_xent_forward(DType dtype, int64_t rows, int64_t row_offset, int64_t m, int64_t d,
                     const void* z_ptr, double inv_temperature, void* row_loss, void* row_lse_ptr,
                     Stream) {
  dispatch_floating(dtype, "nt_xent_forward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    const T* z = static_cast<const T*>(z_ptr);
    A* loss = static_cast<A*>(row_loss);
    A* lse = static_cast<A*>(row_lse_ptr);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t i = r + row_offset;
      const int64_t pos = (i + m / 2) % m;
      const double l = row_lse(z, m, d, i, inv_temperature);
      lse[r] = static_cast<A>(l);
      loss[r] = static_cast<A>(l - inv_temperature * dot(z, d, i, pos));
    }
  });
}

void nt_xent_backward(DType dtype, int64_t rows, int64_t row_offset, int64_t m, int64_t d,
                      const void* z_ptr, double inv_temperature, const void* lse_ptr, double scale,
                      void* grad_rows, Stream) {
  dispatch_floating(dtype, "nt_xent_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    using A = acc_type<T>;
    const T* z = static_cast<const T*>(z_ptr);
    const A* lse = static_cast<const A*>(lse_ptr);
    T* grad = static_cast<T*>(grad_rows);
    std::vector<double> g(static_cast<size_t>(d));
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t k = r + row_offset;
      const int64_t pos = (k + m / 2) % m;
      for (int64_t c = 0; c < d; ++c) g[c] = -2.0 * cast_element<double>(z[pos * d + c]);
      for (int64_t j = 0; j < m; ++j) {
        if (j == k) continue;
        const double s = inv_temperature * dot(z, d, k, j);  // s_kj = s_jk
        const double w =
            std::exp(s - static_cast<double>(lse[k])) + std::exp(s - static_cast<double>(lse[j]));
        for (int64_t c = 0; c < d; ++c) g[c] += w * cast_element<double>(z[j * d + c]);
      }
      for (int64_t c = 0; c < d; ++c) grad[r * d + c] = cast_element<T>(scale * g[c]);
    }
  });
}

}  // namespace simclr::cpu
