// softmax and log_softmax along one dimension.
#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace simclr {

namespace {

struct Split {
  int64_t outer = 1, dim = 1, inner = 1;
};

Split split_at(const Shape& shape, int axis) {
  Split s;
  for (int i = 0; i < shape.ndim(); ++i) {
    if (i < axis) s.outer *= shape[i];
    if (i == axis) s.dim = shape[i];
    if (i > axis) s.inner *= shape[i];
  }
  return s;
}

Tensor softmax_op(const Tensor& t, int64_t dim, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  detail::check_floating(t, name);
  const Split s = t.ndim() == 0 ? Split{} : split_at(t.shape(), t.shape().axis(dim, name));
  const Tensor x = contiguous(t);
  Tensor out = empty_like(x);
  SIMCLR_DISPATCH(t.device(), softmax, log, t.dtype(), s.outer, s.dim, s.inner, out.data_ptr(),
                  x.data_ptr(), current_stream(t.device()));
  return detail::record(
      out, name, {x}, {out.detach()}, [s, log](Node& node, const std::vector<Tensor>& g) {
        const Tensor& y = node.saved[0];
        const Tensor gy = contiguous(g[0]);
        Tensor gx = empty_like(y);
        SIMCLR_DISPATCH(y.device(), softmax_backward, log, y.dtype(), s.outer, s.dim, s.inner,
                        gx.data_ptr(), y.data_ptr(), gy.data_ptr(), current_stream(y.device()));
        return std::vector<Tensor>{gx};
      });
}

}  // namespace

Tensor softmax(const Tensor& t, int64_t dim) {
  return softmax_op(t, dim, false);
}
Tensor log_softmax(const Tensor& t, int64_t dim) {
  return softmax_op(t, dim, true);
}

}  // namespace simclr
