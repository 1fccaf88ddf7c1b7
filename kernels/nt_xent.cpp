// nt_xent: argument checks, the fused kernels (kernels/cpu/nt_xent.cpp, kernels/cuda/nt_xent.cu)
// and the autograd node; the normalization is composed from norm, maximum and div.
#include "kernels/nt_xent.h"

#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace simclr {

namespace {

DType loss_dtype(DType dtype) {
  return dtype == DType::f64 ? DType::f64 : DType::f32;
}

void check_z(const Tensor& z, double temperature, const char* op) {
  SIMCLR_CHECK(z.defined(), op, ": z is undefined");
  detail::check_floating(z, op);
  SIMCLR_CHECK(z.ndim() == 2, op, ": expected z of shape [m, d] (2-D), got ", z.str());
  const int64_t m = z.size(0);
  SIMCLR_CHECK(m >= 2 && m % 2 == 0, op,
               ": expected an even number of rows m >= 2 (two views per sample), got ", z.str());
  SIMCLR_CHECK(z.size(1) >= 1, op, ": expected d >= 1, got ", z.str());
  SIMCLR_CHECK(temperature > 0, op, ": expected a positive temperature, got ", temperature);
}

void check_range(const Tensor& z, int64_t row_offset, int64_t rows, const char* op) {
  SIMCLR_CHECK(row_offset >= 0 && rows >= 0 && row_offset + rows <= z.size(0), op, ": rows [",
               row_offset, ", ", row_offset + rows, ") are not within the ", z.size(0), " rows of ",
               z.str());
}

NtXentRows forward_rows(const Tensor& zc, int64_t row_offset, int64_t rows, double temperature) {
  const DType acc = loss_dtype(zc.dtype());
  NtXentRows out{Tensor::empty({rows}, acc, zc.device()), Tensor::empty({rows}, acc, zc.device())};
  if (rows == 0) return out;
  SIMCLR_DISPATCH(zc.device(), nt_xent_forward, zc.dtype(), rows, row_offset, zc.size(0),
                  zc.size(1), zc.data_ptr(), 1.0 / temperature, out.loss.data_ptr(),
                  out.lse.data_ptr(), current_stream(zc.device()));
  return out;
}

Tensor backward_rows(const Tensor& zc, const Tensor& lse, int64_t row_offset, int64_t rows,
                     double temperature, double grad_scale) {
  Tensor grad = Tensor::empty({rows, zc.size(1)}, zc.dtype(), zc.device());
  if (rows == 0) return grad;
  SIMCLR_DISPATCH(zc.device(), nt_xent_backward, zc.dtype(), rows, row_offset, zc.size(0),
                  zc.size(1), zc.data_ptr(), 1.0 / temperature, lse.data_ptr(),
                  grad_scale / temperature, grad.data_ptr(), current_stream(zc.device()));
  return grad;
}

// The loss of already-normalized rows, with its autograd node.
Tensor nt_xent_fused(const Tensor& z, double temperature) {
  const Tensor zc = contiguous(z.detach());
  const int64_t m = zc.size(0);
  Tensor loss;
  NtXentRows r;
  {
    NoGradGuard no_grad;
    r = forward_rows(zc, 0, m, temperature);
    loss = mean(r.loss);
  }
  const Tensor lse = r.lse;
  return detail::record(
      loss, "nt_xent", {z}, {zc, lse}, [temperature, m](Node& node, const std::vector<Tensor>& g) {
        const Tensor& zs = node.saved[0];
        // The upstream gradient scales the result on the device: no host read of g[0].
        Tensor grad = backward_rows(zs, node.saved[1], 0, m, temperature, 1.0 / m);
        return std::vector<Tensor>{mul(grad, to(g[0], zs.dtype()))};
      });
}

}  // namespace

Tensor NtXentRows::loss_sum() const {
  return sum(loss);
}

Tensor nt_xent_normalize(const Tensor& z) {
  detail::check_floating(z, "nt_xent_normalize");
  SIMCLR_CHECK(z.ndim() == 2, "nt_xent_normalize: expected a 2-D tensor, got ", z.str());
  const Tensor eps = full({1}, 1e-12, z.dtype(), z.device());
  return div(z, maximum(norm(z, {1}, true), eps));
}

Tensor nt_xent(const Tensor& z, double temperature, bool normalize) {
  check_z(z, temperature, "nt_xent");
  return nt_xent_fused(normalize ? nt_xent_normalize(z) : z, temperature);
}

NtXentRows nt_xent_rows_forward(const Tensor& z, int64_t row_offset, int64_t rows,
                                double temperature) {
  check_z(z, temperature, "nt_xent_rows_forward");
  check_range(z, row_offset, rows, "nt_xent_rows_forward");
  NoGradGuard no_grad;
  return forward_rows(contiguous(z.detach()), row_offset, rows, temperature);
}

Tensor nt_xent_rows_backward(const Tensor& z, const Tensor& lse, int64_t row_offset, int64_t rows,
                             double temperature, double grad_scale) {
  const char* op = "nt_xent_rows_backward";
  check_z(z, temperature, op);
  check_range(z, row_offset, rows, op);
  SIMCLR_CHECK(lse.defined() && lse.ndim() == 1 && lse.size(0) == z.size(0) &&
                   lse.dtype() == loss_dtype(z.dtype()) && lse.device() == z.device(),
               op, ": expected lse of shape [", z.size(0), "] in ",
               dtype_name(loss_dtype(z.dtype())), " on z's device, got ",
               lse.defined() ? lse.str() : std::string("undefined"));
  NoGradGuard no_grad;
  return backward_rows(contiguous(z.detach()), contiguous(lse.detach()), row_offset, rows,
                       temperature, grad_scale);
}

}  // namespace simclr
