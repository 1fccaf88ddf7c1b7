// nt_xent: argument checks, the fused kernels (kernels/cpu/nt_xent.cpp, kernels/cuda/nt_xent.cu)
// and the autograd node, the TF32 switch; nt_xent_normalize is composed from norm, maximum and div
// for the distributed form, while nt_xent normalizes inside the kernels.
#include "kernels/nt_xent.h"

#include <atomic>
#include <cstdlib>
#include <string>

#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace simclr {

namespace {

// -1: not read from SIMCLR_NT_XENT_TF32 yet; then 0 or 1.
std::atomic<int> tf32_mode{-1};

int tf32_from_env() {
  const char* value = std::getenv("SIMCLR_NT_XENT_TF32");
  if (value == nullptr || *value == '\0') return 0;
  const std::string v(value);
  SIMCLR_CHECK(v == "0" || v == "1",
               "environment variable SIMCLR_NT_XENT_TF32: expected 0 or 1, got '", v, "'");
  return v == "1" ? 1 : 0;
}

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

NtXentArgs args_for(const Tensor& zc, const Tensor& inv_norm, int64_t row_offset, int64_t rows,
                    double temperature, bool tf32) {
  return NtXentArgs{.dtype = zc.dtype(),
                    .rows = rows,
                    .row_offset = row_offset,
                    .m = zc.size(0),
                    .d = zc.size(1),
                    .z = zc.data_ptr(),
                    .inv_norm = inv_norm.defined() ? inv_norm.data_ptr() : nullptr,
                    .inv_temperature = 1.0 / temperature,
                    .tf32 = tf32};
}

// Every row's 1 / max(||z_i||, eps), [m] in the loss dtype: all that normalizing costs in memory.
Tensor inv_norms(const Tensor& zc) {
  Tensor inv = Tensor::empty({zc.size(0)}, loss_dtype(zc.dtype()), zc.device());
  SIMCLR_DISPATCH(zc.device(), nt_xent_inv_norm, zc.dtype(), zc.size(0), zc.size(1), zc.data_ptr(),
                  inv.data_ptr(), current_stream(zc.device()));
  return inv;
}

NtXentRows forward_rows(const NtXentArgs& args, Device device) {
  const DType acc = loss_dtype(args.dtype);
  NtXentRows out{Tensor::empty({args.rows}, acc, device), Tensor::empty({args.rows}, acc, device)};
  if (args.rows == 0) return out;
  SIMCLR_DISPATCH(device, nt_xent_forward, args, out.loss.data_ptr(), out.lse.data_ptr(),
                  current_stream(device));
  return out;
}

Tensor backward_rows(const NtXentArgs& args, Device device, const Tensor& lse, double temperature,
                     double grad_scale) {
  Tensor grad = Tensor::empty({args.rows, args.d}, args.dtype, device);
  if (args.rows == 0) return grad;
  SIMCLR_DISPATCH(device, nt_xent_backward, args, lse.data_ptr(), grad_scale / temperature,
                  grad.data_ptr(), current_stream(device));
  return grad;
}

// The loss with its autograd node; the node saves z, the log-sum-exps and the inverse norms.
Tensor nt_xent_fused(const Tensor& z, double temperature, bool normalize) {
  const Tensor zc = contiguous(z.detach());
  const int64_t m = zc.size(0);
  const bool tf32 = nt_xent_tf32();
  Tensor loss, inv;
  NtXentRows r;
  {
    NoGradGuard no_grad;
    if (normalize) inv = inv_norms(zc);
    r = forward_rows(args_for(zc, inv, 0, m, temperature, tf32), zc.device());
    loss = mean(r.loss);
  }
  return detail::record(
      loss, "nt_xent", {z}, {zc, r.lse, inv},
      [temperature, m, tf32](Node& node, const std::vector<Tensor>& g) {
        const Tensor& zs = node.saved[0];
        const NtXentArgs args = args_for(zs, node.saved[2], 0, m, temperature, tf32);
        // The upstream gradient scales the result on the device: no host read of g[0].
        Tensor grad = backward_rows(args, zs.device(), node.saved[1], temperature, 1.0 / m);
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
  return nt_xent_fused(z, temperature, normalize);
}

bool nt_xent_tf32() {
  int mode = tf32_mode.load();
  if (mode < 0) {
    mode = tf32_from_env();
    int unset = -1;
    // A set_nt_xent_tf32 that raced ahead of this first read wins.
    if (!tf32_mode.compare_exchange_strong(unset, mode)) mode = unset;
  }
  return mode == 1;
}

void set_nt_xent_tf32(bool on) {
  tf32_mode = on ? 1 : 0;
}

NtXentRows nt_xent_rows_forward(const Tensor& z, int64_t row_offset, int64_t rows,
                                double temperature) {
  check_z(z, temperature, "nt_xent_rows_forward");
  check_range(z, row_offset, rows, "nt_xent_rows_forward");
  NoGradGuard no_grad;
  const Tensor zc = contiguous(z.detach());
  return forward_rows(args_for(zc, Tensor(), row_offset, rows, temperature, nt_xent_tf32()),
                      zc.device());
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
  const Tensor zc = contiguous(z.detach());
  return backward_rows(args_for(zc, Tensor(), row_offset, rows, temperature, nt_xent_tf32()),
                       zc.device(), contiguous(lse.detach()), temperature, grad_scale);
}

}  // namespace simclr
