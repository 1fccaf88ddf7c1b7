// Unary elementwise ops and their scalar forms (x + c, x * c, x ^ c).
#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace simclr {

using detail::contiguous_layout;
using detail::layout_of;

const char* op_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::neg:
      return "neg";
    case UnaryOp::exp:
      return "exp";
    case UnaryOp::log:
      return "log";
    case UnaryOp::sqrt:
      return "sqrt";
    case UnaryOp::rsqrt:
      return "rsqrt";
    case UnaryOp::abs:
      return "abs";
    case UnaryOp::relu:
      return "relu";
    case UnaryOp::sigmoid:
      return "sigmoid";
    case UnaryOp::tanh:
      return "tanh";
    case UnaryOp::square:
      return "square";
    case UnaryOp::add_scalar:
      return "add_scalar";
    case UnaryOp::mul_scalar:
      return "mul_scalar";
    case UnaryOp::pow_scalar:
      return "pow_scalar";
  }
  return "unary";
}

namespace {

Tensor unary_grad(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& gy, double alpha) {
  Tensor gx = empty_like(x);
  SIMCLR_DISPATCH(x.device(), unary_backward, op, x.dtype(), contiguous_layout(x.shape()),
                  gx.data_ptr(), layout_of(x), x.data_ptr(), layout_of(y), y.data_ptr(),
                  layout_of(gy), gy.data_ptr(), alpha, current_stream(x.device()));
  return gx;
}

Tensor unary_op(UnaryOp op, const Tensor& t, double alpha) {
  detail::check_floating(t, op_name(op));
  Tensor out = empty_like(t);
  SIMCLR_DISPATCH(t.device(), unary, op, t.dtype(), contiguous_layout(t.shape()), out.data_ptr(),
                  layout_of(t), t.data_ptr(), alpha, current_stream(t.device()));
  return detail::record(
      out, op_name(op), {t}, {t, out.detach()},
      [op, alpha](Node& node, const std::vector<Tensor>& g) {
        return std::vector<Tensor>{unary_grad(op, node.saved[0], node.saved[1], g[0], alpha)};
      });
}

}  // namespace

Tensor neg(const Tensor& t) {
  return unary_op(UnaryOp::neg, t, 0);
}
Tensor exp(const Tensor& t) {
  return unary_op(UnaryOp::exp, t, 0);
}
Tensor log(const Tensor& t) {
  return unary_op(UnaryOp::log, t, 0);
}
Tensor sqrt(const Tensor& t) {
  return unary_op(UnaryOp::sqrt, t, 0);
}
Tensor rsqrt(const Tensor& t) {
  return unary_op(UnaryOp::rsqrt, t, 0);
}
Tensor abs(const Tensor& t) {
  return unary_op(UnaryOp::abs, t, 0);
}
Tensor relu(const Tensor& t) {
  return unary_op(UnaryOp::relu, t, 0);
}
Tensor sigmoid(const Tensor& t) {
  return unary_op(UnaryOp::sigmoid, t, 0);
}
Tensor tanh(const Tensor& t) {
  return unary_op(UnaryOp::tanh, t, 0);
}
Tensor square(const Tensor& t) {
  return unary_op(UnaryOp::square, t, 0);
}
Tensor add(const Tensor& a, double b) {
  return unary_op(UnaryOp::add_scalar, a, b);
}
Tensor mul(const Tensor& a, double b) {
  return unary_op(UnaryOp::mul_scalar, a, b);
}
Tensor pow(const Tensor& a, double exponent) {
  return unary_op(UnaryOp::pow_scalar, a, exponent);
}

}  // namespace simclr
