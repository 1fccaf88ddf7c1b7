// Tensor: a strided view (shape, strides, offset) of a Storage, with a dtype, a device and the
// autograd fields. Tensor is a cheap handle: copies share the same TensorImpl.
//
// Core holds only what needs no kernel: metadata, raw views (as_strided), and the autograd
// state. Ops that compute (arithmetic, copies, factories that fill) live in kernels/ops.h.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/shape.h"
#include "core/storage.h"

namespace simclr {

class Node;
struct TensorImpl;

class Tensor {
 public:
  Tensor() = default;  // undefined
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // Uninitialized memory, contiguous, on the device's current stream.
  static Tensor empty(const Shape& shape, DType dtype = DType::f32, Device device = Device::cpu());

  // A contiguous tensor over memory the caller owns (see Storage's wrapping constructor).
  static Tensor from_blob(void* data, const Shape& shape, DType dtype, Device device,
                          std::function<void(void*)> release = nullptr);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int ndim() const { return shape().ndim(); }
  int64_t size(int64_t dim) const;
  int64_t numel() const { return shape().numel(); }
  const Strides& strides() const;
  int64_t stride(int64_t dim) const;
  int64_t offset() const;  // in elements, into the storage
  DType dtype() const;
  Device device() const;
  bool is_contiguous() const;
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype()); }
  const std::shared_ptr<Storage>& storage() const;

  void* data_ptr() const;  // the first element
  template <typename T>
  T* data() const {
    SIMCLR_CHECK(dtype() == dtype_of<T>(), "Tensor::data<", dtype_name(dtype_of<T>()),
                 ">: the tensor holds ", dtype_name(dtype()));
    return static_cast<T*>(data_ptr());
  }

  // A view of the same storage with other sizes and strides; no autograd (see kernels/ops.h).
  Tensor as_strided(const Shape& shape, const Strides& strides, int64_t offset) const;

  // Autograd.
  bool requires_grad() const;
  Tensor& set_requires_grad(bool requires_grad);  // leaves only
  bool is_leaf() const;
  const Tensor& grad() const;  // undefined until a backward reaches this leaf
  void set_grad(const Tensor& grad);
  const std::shared_ptr<Node>& grad_fn() const;
  int output_nr() const;
  void set_grad_fn(std::shared_ptr<Node> node, int output_nr);
  // The same data, cut from the graph.
  Tensor detach() const;
  // Runs backward from this tensor. Without `grad` the tensor must hold one element (a loss).
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;

  std::string str() const;  // "Tensor[2, 3] f32 cpu"
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  const TensorImpl& checked() const;
  std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;
  Shape shape;
  Strides strides;
  DType dtype = DType::f32;

  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;
  int output_nr = 0;
  std::weak_ptr<Node> grad_accumulator;  // leaves: the node that accumulates into `grad`
  // Leaves: callbacks run after each accumulation into `grad`, by id (core/autograd.h).
  std::vector<std::pair<int64_t, std::function<void(const Tensor&)>>> post_accumulate_grad_hooks;
};

// Raises when two tensors are on different devices or have different dtypes; `op` names the caller.
void check_same_device(const Tensor& a, const Tensor& b, const char* op);
void check_same_dtype(const Tensor& a, const Tensor& b, const char* op);

}  // namespace simclr
