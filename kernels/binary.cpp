// Binary elementwise ops with NumPy broadcasting. Gradients are summed back over the broadcast
// dimensions (sum_to).
#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace simclr {

using detail::broadcast_layout;
using detail::contiguous_layout;

const char* op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::add:
      return "add";
    case BinaryOp::sub:
      return "sub";
    case BinaryOp::mul:
      return "mul";
    case BinaryOp::div:
      return "div";
    case BinaryOp::maximum:
      return "maximum";
    case BinaryOp::minimum:
      return "minimum";
    case BinaryOp::eq:
      return "eq";
    case BinaryOp::gt:
      return "gt";
  }
  return "binary";
}

namespace {

// Gradients of (a, b) from the output gradient g; undefined where not needed.
std::vector<Tensor> binary_grads(BinaryOp op, Node& node, const Tensor& g) {
  Tensor ga, gb;
  if (op == BinaryOp::add || op == BinaryOp::sub) {
    ga = g;
    if (node.needs_input_grad(1)) gb = op == BinaryOp::add ? g : neg(g);
  }
  const Tensor a = node.saved.empty() ? Tensor() : node.saved[0];
  const Tensor b = node.saved.empty() ? Tensor() : node.saved[1];
  switch (op) {
    case BinaryOp::mul:
      if (node.needs_input_grad(0)) ga = mul(g, b);
      if (node.needs_input_grad(1)) gb = mul(g, a);
      break;
    case BinaryOp::div:
      if (node.needs_input_grad(0)) ga = div(g, b);
      if (node.needs_input_grad(1)) gb = neg(div(mul(g, a), mul(b, b)));
      break;
    case BinaryOp::maximum:
    case BinaryOp::minimum: {
      // Ties split the gradient equally, as torch.maximum does.
      Tensor wins = op == BinaryOp::maximum ? gt(a, b) : gt(b, a);
      Tensor share = add(wins, mul(eq(a, b), 0.5));
      ga = mul(g, share);
      gb = sub(g, ga);
      break;
    }
    default:
      break;
  }
  return {node.needs_input_grad(0) && ga.defined() ? sum_to(ga, node.inputs[0].shape) : Tensor(),
          node.needs_input_grad(1) && gb.defined() ? sum_to(gb, node.inputs[1].shape) : Tensor()};
}

Tensor binary_op(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = op_name(op);
  check_same_device(a, b, name);
  check_same_dtype(a, b, name);
  detail::check_floating(a, name);
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = Tensor::empty(shape, a.dtype(), a.device());
  SIMCLR_DISPATCH(a.device(), binary, op, a.dtype(), contiguous_layout(shape), out.data_ptr(),
                  broadcast_layout(a, shape), a.data_ptr(), broadcast_layout(b, shape),
                  b.data_ptr(), current_stream(a.device()));
  if (op == BinaryOp::eq || op == BinaryOp::gt) return out;
  // add and sub need only the input shapes (kept in the node) for their gradients.
  const bool keep = op != BinaryOp::add && op != BinaryOp::sub;
  return detail::record(
      out, name, {a, b}, keep ? std::vector<Tensor>{a, b} : std::vector<Tensor>{},
      [op](Node& node, const std::vector<Tensor>& g) { return binary_grads(op, node, g[0]); });
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  return binary_op(BinaryOp::add, a, b);
}
Tensor sub(const Tensor& a, const Tensor& b) {
  return binary_op(BinaryOp::sub, a, b);
}
Tensor mul(const Tensor& a, const Tensor& b) {
  return binary_op(BinaryOp::mul, a, b);
}
Tensor div(const Tensor& a, const Tensor& b) {
  return binary_op(BinaryOp::div, a, b);
}
Tensor maximum(const Tensor& a, const Tensor& b) {
  return binary_op(BinaryOp::maximum, a, b);
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return binary_op(BinaryOp::minimum, a, b);
}
Tensor eq(const Tensor& a, const Tensor& b) {
  return binary_op(BinaryOp::eq, a, b);
}
Tensor gt(const Tensor& a, const Tensor& b) {
  return binary_op(BinaryOp::gt, a, b);
}

}  // namespace simclr
