// index_select: the row gather that makes a batch out of a data set resident on the device.
#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace simclr {

Tensor index_select(const Tensor& t, const Tensor& indices) {
  SIMCLR_CHECK(t.defined() && t.ndim() >= 1, "index_select: expected a tensor of rank >= 1, got ",
               t.defined() ? t.str() : std::string("an undefined tensor"));
  SIMCLR_CHECK(!(grad_enabled() && t.requires_grad()),
               "index_select: records no gradient, but got a tensor that requires grad: ", t.str());
  SIMCLR_CHECK(indices.defined() && indices.dtype() == DType::i64 && indices.ndim() == 1 &&
                   indices.device().is_cpu(),
               "index_select: expected int64 indices [k] on the CPU, got ",
               indices.defined() ? indices.str() : std::string("an undefined tensor"));
  const Tensor idx = contiguous(indices);
  const int64_t k = idx.size(0), rows = t.size(0);
  const int64_t* host = idx.data<int64_t>();
  for (int64_t i = 0; i < k; ++i)
    SIMCLR_CHECK(0 <= host[i] && host[i] < rows, "index_select: index ", host[i], " at position ",
                 i, " is outside [0, ", rows, ")");
  const Tensor src = contiguous(t);
  std::vector<int64_t> dims = t.shape().dims();
  dims[0] = k;
  Tensor out = Tensor::empty(Shape(dims), t.dtype(), t.device());
  if (k == 0) return out;
  const Tensor device_idx = t.device().is_cpu() ? idx : to(idx, t.device());
  const int64_t row_bytes = rows == 0 ? 0 : src.numel() / rows * dtype_size(t.dtype());
  SIMCLR_DISPATCH(t.device(), index_select, k, row_bytes, src.data_ptr(),
                  static_cast<const int64_t*>(device_idx.data_ptr()), out.data_ptr(),
                  current_stream(t.device()));
  return out;
}

}  // namespace simclr
