// The ops: the functional API over Tensor that layers/ and everything above use. Each op checks
// its arguments (one error naming the op, what it expected and what came), picks the CPU or CUDA
// kernel by the tensors' device, and, when grad mode is on and an input requires grad, records an
// autograd node whose backward is written with these same ops.
#pragma once

#include <cstdint>
#include <vector>

#include "core/autograd.h"
#include "core/philox.h"
#include "core/tensor.h"

namespace simclr {

// ---- factories and data movement (kernels/fill.cpp, copy.cpp, random.cpp) ----
Tensor zeros(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
Tensor ones(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());
Tensor full(const Shape& shape, double value, DType dtype = DType::f32,
            Device device = Device::cpu());
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor empty_like(const Tensor& t);
Tensor arange(int64_t n, DType dtype = DType::f32, Device device = Device::cpu());
// Uniform in [low, high) and standard normal, from the default generator unless one is given.
Tensor rand(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu(),
            Generator* gen = nullptr);
Tensor randn(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu(),
             Generator* gen = nullptr);
Tensor& uniform_(Tensor& t, double low = 0.0, double high = 1.0, Generator* gen = nullptr);
Tensor& normal_(Tensor& t, double mean = 0.0, double std = 1.0, Generator* gen = nullptr);
Tensor& fill_(Tensor& t, double value);
// Copies src into dst (same shape, or src broadcast to it), casting and moving across devices.
Tensor& copy_(Tensor& dst, const Tensor& src);

// Rows of t (along dim 0) picked by `indices` (int64 [k] on the CPU, each in [0, t.size(0))):
// [k, ...] on t's device, contiguous. A data-loading op (batches from a resident data set, features
// for a probe): it records no gradient, and refuses a t that requires one.
Tensor index_select(const Tensor& t, const Tensor& indices);

// Differentiable conversions.
Tensor to(const Tensor& t, Device device);
Tensor to(const Tensor& t, DType dtype);  // cast
Tensor clone(const Tensor& t);
Tensor contiguous(const Tensor& t);

// Host data in and out. from_vector copies `data` (row-major) into a new tensor.
template <typename T>
Tensor from_vector(const std::vector<T>& data, const Shape& shape, Device device = Device::cpu());
template <typename T>
std::vector<T> to_vector(const Tensor& t);  // row-major; T must match the dtype
double item(const Tensor& t);               // the value of a one-element tensor

// ---- views (kernels/views.cpp): share storage where the layout allows; differentiable ----
Tensor reshape(const Tensor& t, const Shape& shape);  // one dimension may be -1
Tensor flatten(const Tensor& t, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor transpose(const Tensor& t, int64_t dim0, int64_t dim1);
Tensor permute(const Tensor& t, const std::vector<int64_t>& dims);
Tensor slice(const Tensor& t, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor expand(const Tensor& t, const Shape& shape);
Tensor unsqueeze(const Tensor& t, int64_t dim);
Tensor squeeze(const Tensor& t, int64_t dim);

// ---- elementwise (kernels/unary.cpp, binary.cpp); binary ops broadcast ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, const Tensor& b);  // 1 or 0 in a's dtype; not differentiable
Tensor gt(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, double b);
Tensor mul(const Tensor& a, double b);
Tensor pow(const Tensor& a, double exponent);
Tensor neg(const Tensor& t);
Tensor exp(const Tensor& t);
Tensor log(const Tensor& t);
Tensor sqrt(const Tensor& t);
Tensor rsqrt(const Tensor& t);
Tensor abs(const Tensor& t);
Tensor relu(const Tensor& t);
Tensor sigmoid(const Tensor& t);
Tensor tanh(const Tensor& t);
Tensor square(const Tensor& t);

inline Tensor operator+(const Tensor& a, const Tensor& b) {
  return add(a, b);
}
inline Tensor operator-(const Tensor& a, const Tensor& b) {
  return sub(a, b);
}
inline Tensor operator*(const Tensor& a, const Tensor& b) {
  return mul(a, b);
}
inline Tensor operator/(const Tensor& a, const Tensor& b) {
  return div(a, b);
}
inline Tensor operator+(const Tensor& a, double b) {
  return add(a, b);
}
inline Tensor operator-(const Tensor& a, double b) {
  return add(a, -b);
}
inline Tensor operator*(const Tensor& a, double b) {
  return mul(a, b);
}
inline Tensor operator*(double a, const Tensor& b) {
  return mul(b, a);
}
inline Tensor operator/(const Tensor& a, double b) {
  return mul(a, 1.0 / b);
}
inline Tensor operator-(const Tensor& t) {
  return neg(t);
}

// ---- reductions (kernels/reduce.cpp): over `dims` (all when empty) ----
Tensor sum(const Tensor& t, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& t, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// max/min values; the gradient is shared equally among tied maxima (as torch.amax).
Tensor max(const Tensor& t, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor min(const Tensor& t, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// The L2 norm, sqrt(sum(x^2)); its gradient at a zero norm is 0.
Tensor norm(const Tensor& t, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Sums the broadcast dimensions of t away so that it has `shape` (gradients of broadcasts).
Tensor sum_to(const Tensor& t, const Shape& shape);

// ---- linear algebra and softmax (kernels/matmul.cpp, softmax.cpp) ----
// [m, k] x [k, n] -> [m, n], or batched [b, m, k] x [b, k, n] -> [b, m, n] (a 2-D operand is
// broadcast over the batch). Transposed views go to BLAS as transposes, without a copy.
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor softmax(const Tensor& t, int64_t dim);
Tensor log_softmax(const Tensor& t, int64_t dim);

}  // namespace simclr
