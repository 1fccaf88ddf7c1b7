// The op codes that select the per-element function inside the unary, binary and reduce kernels.
#pragma once

#include <cstdint>

namespace simclr {

enum class UnaryOp : uint8_t {
  neg,
  exp,
  log,
  sqrt,
  rsqrt,
  abs,
  relu,
  sigmoid,
  tanh,
  square,
  add_scalar,  // x + alpha
  mul_scalar,  // x * alpha
  pow_scalar,  // x ^ alpha
};

enum class BinaryOp : uint8_t {
  add,
  sub,
  mul,
  div,
  maximum,
  minimum,
  eq,  // 1 where a == b, else 0
  gt,  // 1 where a > b, else 0
};

enum class ReduceOp : uint8_t { sum, mean, max, min, norm };

enum class RandomKind : uint8_t { uniform, normal };

const char* op_name(UnaryOp op);
const char* op_name(BinaryOp op);
const char* op_name(ReduceOp op);

}  // namespace simclr
