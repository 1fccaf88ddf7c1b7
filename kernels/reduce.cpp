// Reductions over a set of dimensions: sum, mean, max, min and the L2 norm.
#include <algorithm>

#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace simclr {

const char* op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum:
      return "sum";
    case ReduceOp::mean:
      return "mean";
    case ReduceOp::max:
      return "max";
    case ReduceOp::min:
      return "min";
    case ReduceOp::norm:
      return "norm";
  }
  return "reduce";
}

namespace {

struct ReducePlan {
  Layout kept, reduced;
  Shape keepdim_shape;  // reduced dimensions as 1
  Shape out_shape;      // as asked (keepdim or not)
  int64_t count = 1;    // elements folded into each output
};

ReducePlan plan_reduce(const Tensor& t, const std::vector<int64_t>& dims, bool keepdim,
                       const char* op) {
  std::vector<bool> reduced(static_cast<size_t>(t.ndim()), dims.empty());
  for (int64_t d : dims) {
    const int axis = t.shape().axis(d, op);
    SIMCLR_CHECK(!reduced[static_cast<size_t>(axis)], op, ": dim ", d, " given twice");
    reduced[static_cast<size_t>(axis)] = true;
  }
  ReducePlan p;
  std::vector<int64_t> keep_shape, out_shape;
  for (int i = 0; i < t.ndim(); ++i) {
    const int64_t size = t.shape()[i];
    const int64_t stride = t.strides()[static_cast<size_t>(i)];
    Layout& l = reduced[static_cast<size_t>(i)] ? p.reduced : p.kept;
    l.sizes[l.ndim] = size;
    l.strides[l.ndim] = stride;
    ++l.ndim;
    if (reduced[static_cast<size_t>(i)]) {
      p.count *= size;
      keep_shape.push_back(1);
      if (keepdim) out_shape.push_back(1);
    } else {
      keep_shape.push_back(size);
      out_shape.push_back(size);
    }
  }
  p.keepdim_shape = Shape(keep_shape);
  p.out_shape = Shape(out_shape);
  return p;
}

Tensor reduce_grad(ReduceOp op, Node& node, const Tensor& g, const Shape& keepdim_shape,
                   int64_t count, const std::vector<int64_t>& dims) {
  const Shape& in_shape = node.inputs[0].shape;
  Tensor gk = reshape(g, keepdim_shape);
  switch (op) {
    case ReduceOp::sum:
      return contiguous(expand(gk, in_shape));
    case ReduceOp::mean:
      return contiguous(expand(mul(gk, 1.0 / static_cast<double>(count)), in_shape));
    case ReduceOp::max:
    case ReduceOp::min: {
      const Tensor& x = node.saved[0];
      Tensor hits = eq(x, reshape(node.saved[1], keepdim_shape));
      return mul(hits, div(gk, sum(hits, dims, true)));
    }
    case ReduceOp::norm: {
      const Tensor& x = node.saved[0];
      Tensor n = reshape(node.saved[1], keepdim_shape);
      Tensor nonzero = gt(n, zeros_like(n));
      // g * x / |x|, and 0 where |x| = 0 (the subgradient PyTorch picks).
      Tensor scale = div(mul(gk, nonzero), add(n, add(neg(nonzero), 1.0)));
      return mul(x, scale);
    }
  }
  return Tensor();
}

Tensor reduce_op(ReduceOp op, const Tensor& t, const std::vector<int64_t>& dims, bool keepdim) {
  const char* name = op_name(op);
  detail::check_floating(t, name);
  const ReducePlan p = plan_reduce(t, dims, keepdim, name);
  SIMCLR_CHECK(p.count > 0 || op == ReduceOp::sum || op == ReduceOp::norm, name,
               ": cannot reduce zero elements of ", t.str());
  Tensor out = Tensor::empty(p.out_shape, t.dtype(), t.device());
  SIMCLR_DISPATCH(t.device(), reduce, op, t.dtype(), out.data_ptr(), p.kept, p.reduced,
                  t.data_ptr(), current_stream(t.device()));
  const bool keep = op == ReduceOp::max || op == ReduceOp::min || op == ReduceOp::norm;
  std::vector<int64_t> all_dims = dims;
  if (all_dims.empty())
    for (int i = 0; i < t.ndim(); ++i) all_dims.push_back(i);
  return detail::record(
      out, name, {t}, keep ? std::vector<Tensor>{t, out.detach()} : std::vector<Tensor>{},
      [op, shape = p.keepdim_shape, count = p.count, all_dims](Node& node,
                                                               const std::vector<Tensor>& g) {
        return std::vector<Tensor>{reduce_grad(op, node, g[0], shape, count, all_dims)};
      });
}

}  // namespace

Tensor sum(const Tensor& t, const std::vector<int64_t>& dims, bool keepdim) {
  return reduce_op(ReduceOp::sum, t, dims, keepdim);
}
Tensor mean(const Tensor& t, const std::vector<int64_t>& dims, bool keepdim) {
  return reduce_op(ReduceOp::mean, t, dims, keepdim);
}
Tensor max(const Tensor& t, const std::vector<int64_t>& dims, bool keepdim) {
  return reduce_op(ReduceOp::max, t, dims, keepdim);
}
Tensor min(const Tensor& t, const std::vector<int64_t>& dims, bool keepdim) {
  return reduce_op(ReduceOp::min, t, dims, keepdim);
}
Tensor norm(const Tensor& t, const std::vector<int64_t>& dims, bool keepdim) {
  return reduce_op(ReduceOp::norm, t, dims, keepdim);
}

Tensor sum_to(const Tensor& t, const Shape& shape) {
  if (t.shape() == shape) return t;
  SIMCLR_CHECK(broadcast_shapes(t.shape(), shape, "sum_to") == t.shape(),
               "sum_to: ", t.shape().str(), " does not broadcast from ", shape.str());
  const int lead = t.ndim() - shape.ndim();
  std::vector<int64_t> dims;
  for (int i = 0; i < t.ndim(); ++i)
    if (i < lead || (shape[i - lead] == 1 && t.shape()[i] != 1)) dims.push_back(i);
  if (dims.empty()) return reshape(t, shape);
  return reshape(sum(t, dims, true), shape);
}

}  // namespace simclr
