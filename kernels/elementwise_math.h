// Per-element math shared by the CPU references and the CUDA kernels, so both compute exactly the
// same function. A is the accumulation type (float, or double for f64 tensors).
#pragma once

#include <cmath>

#include "core/macros.h"
#include "kernels/op_kinds.h"

namespace simclr {

namespace math {
SIMCLR_HD_INLINE float exp(float x) {
  return ::expf(x);
}
SIMCLR_HD_INLINE double exp(double x) {
  return ::exp(x);
}
SIMCLR_HD_INLINE float log(float x) {
  return ::logf(x);
}
SIMCLR_HD_INLINE double log(double x) {
  return ::log(x);
}
SIMCLR_HD_INLINE float sqrt(float x) {
  return ::sqrtf(x);
}
SIMCLR_HD_INLINE double sqrt(double x) {
  return ::sqrt(x);
}
SIMCLR_HD_INLINE float tanh(float x) {
  return ::tanhf(x);
}
SIMCLR_HD_INLINE double tanh(double x) {
  return ::tanh(x);
}
SIMCLR_HD_INLINE float pow(float x, float y) {
  return ::powf(x, y);
}
SIMCLR_HD_INLINE double pow(double x, double y) {
  return ::pow(x, y);
}
SIMCLR_HD_INLINE float cos(float x) {
  return ::cosf(x);
}
SIMCLR_HD_INLINE double cos(double x) {
  return ::cos(x);
}
SIMCLR_HD_INLINE float sin(float x) {
  return ::sinf(x);
}
SIMCLR_HD_INLINE double sin(double x) {
  return ::sin(x);
}
}  // namespace math

template <typename A>
SIMCLR_HD_INLINE A unary_forward(UnaryOp op, A x, A alpha) {
  switch (op) {
    case UnaryOp::neg:
      return -x;
    case UnaryOp::exp:
      return math::exp(x);
    case UnaryOp::log:
      return math::log(x);
    case UnaryOp::sqrt:
      return math::sqrt(x);
    case UnaryOp::rsqrt:
      return A(1) / math::sqrt(x);
    case UnaryOp::abs:
      return x < A(0) ? -x : x;
    case UnaryOp::relu:
      return x > A(0) ? x : A(0);
    case UnaryOp::sigmoid:
      return A(1) / (A(1) + math::exp(-x));
    case UnaryOp::tanh:
      return math::tanh(x);
    case UnaryOp::square:
      return x * x;
    case UnaryOp::add_scalar:
      return x + alpha;
    case UnaryOp::mul_scalar:
      return x * alpha;
    case UnaryOp::pow_scalar:
      return math::pow(x, alpha);
  }
  return x;
}

// d(op(x))/dx * gy, from the input x and the forward output y.
template <typename A>
SIMCLR_HD_INLINE A unary_backward_element(UnaryOp op, A x, A y, A gy, A alpha) {
  switch (op) {
    case UnaryOp::neg:
      return -gy;
    case UnaryOp::exp:
      return gy * y;
    case UnaryOp::log:
      return gy / x;
    case UnaryOp::sqrt:
      return gy / (A(2) * y);
    case UnaryOp::rsqrt:
      return gy * A(-0.5) * y * y * y;
    case UnaryOp::abs:
      return x > A(0) ? gy : (x < A(0) ? -gy : A(0));
    case UnaryOp::relu:
      return x > A(0) ? gy : A(0);
    case UnaryOp::sigmoid:
      return gy * y * (A(1) - y);
    case UnaryOp::tanh:
      return gy * (A(1) - y * y);
    case UnaryOp::square:
      return gy * A(2) * x;
    case UnaryOp::add_scalar:
      return gy;
    case UnaryOp::mul_scalar:
      return gy * alpha;
    case UnaryOp::pow_scalar:
      return alpha == A(0) ? A(0) : gy * alpha * math::pow(x, alpha - A(1));
  }
  return gy;
}

template <typename A>
SIMCLR_HD_INLINE A binary_forward(BinaryOp op, A a, A b) {
  switch (op) {
    case BinaryOp::add:
      return a + b;
    case BinaryOp::sub:
      return a - b;
    case BinaryOp::mul:
      return a * b;
    case BinaryOp::div:
      return a / b;
    case BinaryOp::maximum:
      return a > b ? a : b;
    case BinaryOp::minimum:
      return a < b ? a : b;
    case BinaryOp::eq:
      return a == b ? A(1) : A(0);
    case BinaryOp::gt:
      return a > b ? A(1) : A(0);
  }
  return a;
}

// Reductions: the identity, how one element joins the running value, how two partial values
// merge (for parallel reductions), and the final value from the merged one and the count.
template <typename A>
SIMCLR_HD_INLINE A reduce_identity(ReduceOp op) {
  switch (op) {
    case ReduceOp::max:
      return -INFINITY;
    case ReduceOp::min:
      return INFINITY;
    default:
      return A(0);
  }
}

template <typename A>
SIMCLR_HD_INLINE A reduce_merge(ReduceOp op, A acc, A v) {
  switch (op) {
    case ReduceOp::max:
      return (v > acc || v != v) ? v : acc;  // NaN propagates
    case ReduceOp::min:
      return (v < acc || v != v) ? v : acc;
    default:
      return acc + v;
  }
}

template <typename A>
SIMCLR_HD_INLINE A reduce_element(ReduceOp op, A x) {
  return op == ReduceOp::norm ? x * x : x;
}

template <typename A>
SIMCLR_HD_INLINE A reduce_finish(ReduceOp op, A acc, int64_t count) {
  switch (op) {
    case ReduceOp::mean:
      return acc / static_cast<A>(count);
    case ReduceOp::norm:
      return math::sqrt(acc);
    default:
      return acc;
  }
}

}  // namespace simclr
