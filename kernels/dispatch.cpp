#include "kernels/dispatch.h"

#include <mutex>

#include "kernels/ops.h"

namespace simclr::detail {

Layout layout_of(const Tensor& t) {
  SIMCLR_CHECK(t.ndim() <= kMaxDims, "kernels support at most ", kMaxDims,
               " dimensions, got a tensor of shape ", t.shape().str());
  Layout l;
  l.ndim = t.ndim();
  for (int i = 0; i < l.ndim; ++i) {
    l.sizes[i] = t.shape()[i];
    l.strides[i] = t.strides()[static_cast<size_t>(i)];
  }
  return l;
}

Layout broadcast_layout(const Tensor& t, const Shape& shape) {
  SIMCLR_CHECK(shape.ndim() <= kMaxDims && t.ndim() <= shape.ndim(), "cannot broadcast ",
               t.shape().str(), " to ", shape.str());
  Layout l;
  l.ndim = shape.ndim();
  const int lead = shape.ndim() - t.ndim();
  for (int i = 0; i < l.ndim; ++i) {
    l.sizes[i] = shape[i];
    if (i < lead) continue;
    const int64_t size = t.shape()[i - lead];
    SIMCLR_CHECK(size == shape[i] || size == 1, "cannot broadcast ", t.shape().str(), " to ",
                 shape.str());
    l.strides[i] = size == 1 ? 0 : t.strides()[static_cast<size_t>(i - lead)];
  }
  return l;
}

Layout contiguous_layout(const Shape& shape) {
  SIMCLR_CHECK(shape.ndim() <= kMaxDims, "kernels support at most ", kMaxDims,
               " dimensions, got shape ", shape.str());
  Layout l;
  l.ndim = shape.ndim();
  const Strides strides = contiguous_strides(shape);
  for (int i = 0; i < l.ndim; ++i) {
    l.sizes[i] = shape[i];
    l.strides[i] = strides[static_cast<size_t>(i)];
  }
  return l;
}

void no_cuda(const char* kernel) {
  SIMCLR_THROW(kernel, ": the tensor is on a CUDA device but simclr was built without CUDA");
}

void check_floating(const Tensor& t, const char* op) {
  SIMCLR_CHECK(is_floating(t.dtype()), op,
               ": expected a floating tensor (f32, f64, bf16, f16), got ", t.str());
}

namespace {
void install_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    GradMath math;
    math.add = [](const Tensor& a, const Tensor& b) { return add(a, b); };
    math.ones_like = [](const Tensor& t) { return ones_like(t); };
    math.clone = [](const Tensor& t) { return clone(t); };
    install_grad_math(math);
  });
}
}  // namespace

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!grad_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Tensor record(Tensor out, const char* name, const std::vector<Tensor>& inputs,
              std::vector<Tensor> saved, Node::BackwardFn fn) {
  if (!needs_grad(inputs)) return out;
  install_once();
  auto node = std::make_shared<Node>(name, std::move(fn));
  for (const Tensor& in : inputs) {
    node->next_edges.push_back(in.defined() && in.requires_grad() ? gradient_edge(in) : Edge{});
    node->inputs.push_back(in.defined() ? TensorMeta{in.shape(), in.dtype(), in.device()}
                                        : TensorMeta{});
  }
  node->saved = std::move(saved);
  out.set_grad_fn(std::move(node), 0);
  return out;
}

}  // namespace simclr::detail
