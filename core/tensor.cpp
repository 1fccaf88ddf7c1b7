#include "core/tensor.h"

#include "core/autograd.h"

namespace simclr {

namespace {

size_t checked_bytes(const Shape& shape, DType dtype, const char* op) {
  for (int64_t d : shape.dims())
    SIMCLR_CHECK(d >= 0, op, ": negative dimension in shape ", shape.str());
  return static_cast<size_t>(shape.numel()) * dtype_size(dtype);
}

Tensor contiguous_over(std::shared_ptr<Storage> storage, const Shape& shape, DType dtype) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  const size_t bytes = checked_bytes(shape, dtype, "Tensor::empty");
  return contiguous_over(std::make_shared<Storage>(device, bytes), shape, dtype);
}

Tensor Tensor::from_blob(void* data, const Shape& shape, DType dtype, Device device,
                         std::function<void(void*)> release) {
  const size_t bytes = checked_bytes(shape, dtype, "Tensor::from_blob");
  return contiguous_over(std::make_shared<Storage>(device, data, bytes, std::move(release)), shape,
                         dtype);
}

const TensorImpl& Tensor::checked() const {
  SIMCLR_CHECK(impl_, "use of an undefined tensor");
  return *impl_;
}

const Shape& Tensor::shape() const {
  return checked().shape;
}
const Strides& Tensor::strides() const {
  return checked().strides;
}
int64_t Tensor::offset() const {
  return checked().offset;
}
DType Tensor::dtype() const {
  return checked().dtype;
}
Device Tensor::device() const {
  return checked().storage->device();
}
const std::shared_ptr<Storage>& Tensor::storage() const {
  return checked().storage;
}

int64_t Tensor::size(int64_t dim) const {
  return shape()[shape().axis(dim, "Tensor::size")];
}
int64_t Tensor::stride(int64_t dim) const {
  return strides()[static_cast<size_t>(shape().axis(dim, "Tensor::stride"))];
}

bool Tensor::is_contiguous() const {
  const TensorImpl& t = checked();
  int64_t expected = 1;
  for (int i = t.shape.ndim() - 1; i >= 0; --i) {
    if (t.shape[i] == 1) continue;
    if (t.strides[static_cast<size_t>(i)] != expected) return false;
    expected *= t.shape[i];
  }
  return true;
}

void* Tensor::data_ptr() const {
  const TensorImpl& t = checked();
  return static_cast<char*>(t.storage->data()) +
         t.offset * static_cast<int64_t>(dtype_size(t.dtype));
}

Tensor Tensor::as_strided(const Shape& shape, const Strides& strides, int64_t offset) const {
  const TensorImpl& t = checked();
  SIMCLR_CHECK(static_cast<int>(strides.size()) == shape.ndim(), "as_strided: shape ", shape.str(),
               " has ", shape.ndim(), " dimensions but ", strides.size(), " strides were given");
  int64_t last = offset;
  for (int i = 0; i < shape.ndim(); ++i) {
    SIMCLR_CHECK(shape[i] >= 0 && strides[static_cast<size_t>(i)] >= 0,
                 "as_strided: negative size or stride");
    if (shape[i] > 0) last += (shape[i] - 1) * strides[static_cast<size_t>(i)];
  }
  const int64_t capacity = static_cast<int64_t>(t.storage->nbytes() / dtype_size(t.dtype));
  SIMCLR_CHECK(offset >= 0 && (shape.numel() == 0 || last < capacity), "as_strided: view ",
               shape.str(), " at offset ", offset, " reaches element ", last, " of a storage of ",
               capacity, " elements");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.storage;
  impl->offset = offset;
  impl->shape = shape;
  impl->strides = strides;
  impl->dtype = t.dtype;
  return Tensor(std::move(impl));
}

bool Tensor::requires_grad() const {
  return checked().requires_grad;
}

Tensor& Tensor::set_requires_grad(bool requires_grad) {
  SIMCLR_CHECK(is_leaf(), "set_requires_grad: only leaf tensors can change requires_grad; ",
               "this one was made by ", impl_->grad_fn->name(), " (use detach())");
  SIMCLR_CHECK(!requires_grad || is_floating(dtype()),
               "set_requires_grad: only floating tensors can require grad, got ",
               dtype_name(dtype()));
  impl_->requires_grad = requires_grad;
  return *this;
}

bool Tensor::is_leaf() const {
  return checked().grad_fn == nullptr;
}
const Tensor& Tensor::grad() const {
  return checked().grad;
}

void Tensor::set_grad(const Tensor& grad) {
  checked();
  SIMCLR_CHECK(!grad.defined() || (grad.shape() == shape() && grad.dtype() == dtype() &&
                                   grad.device() == device()),
               "set_grad: gradient ", grad.str(), " does not match the tensor ", str());
  impl_->grad = grad;
}

const std::shared_ptr<Node>& Tensor::grad_fn() const {
  return checked().grad_fn;
}
int Tensor::output_nr() const {
  return checked().output_nr;
}

void Tensor::set_grad_fn(std::shared_ptr<Node> node, int output_nr) {
  checked();
  impl_->grad_fn = std::move(node);
  impl_->output_nr = output_nr;
  impl_->requires_grad = impl_->grad_fn != nullptr;
}

Tensor Tensor::detach() const {
  const TensorImpl& t = checked();
  return as_strided(t.shape, t.strides, t.offset);
}

void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  run_backward(*this, grad, retain_graph);
}

std::string Tensor::str() const {
  if (!impl_) return "Tensor(undefined)";
  return "Tensor" + shape().str() + " " + dtype_name(dtype()) + " " + device().str();
}

void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  SIMCLR_CHECK(a.device() == b.device(), op, ": expected tensors on one device, got ",
               a.device().str(), " and ", b.device().str());
}

void check_same_dtype(const Tensor& a, const Tensor& b, const char* op) {
  SIMCLR_CHECK(a.dtype() == b.dtype(), op, ": expected tensors of one dtype, got ",
               dtype_name(a.dtype()), " and ", dtype_name(b.dtype()));
}

}  // namespace simclr
