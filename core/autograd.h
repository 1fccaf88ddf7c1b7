// Reverse-mode autograd. Each differentiable op run while grad mode is on records a Node: the
// tensors it saved, a backward function, and one Edge per input pointing at the node that made
// that input (or, for a leaf, at its AccumulateGrad). backward() walks the graph from the root in
// dependency order, sums the gradients that reach each node, calls its backward function, and
// frees each node's saved tensors as it goes unless retain_graph is set.
//
// The engine needs two bits of arithmetic, adding gradients and making the root's gradient of
// ones; the kernels library installs them (GradMath) so that core depends on no kernel.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace simclr {

struct Edge {
  std::shared_ptr<Node> node;  // null when the input needs no gradient
  int input_nr = 0;            // which output of `node` this input was
};

// What backward checks a returned gradient against.
struct TensorMeta {
  Shape shape;
  DType dtype = DType::f32;
  Device device;
};

class Node {
 public:
  // grads[i] is the gradient of output i (undefined if nothing flowed into it); returns one
  // gradient per input (undefined where needs_input_grad(i) is false).
  using BackwardFn =
      std::function<std::vector<Tensor>(Node& self, const std::vector<Tensor>& grads)>;

  Node(std::string name, BackwardFn fn, int num_outputs = 1);
  virtual ~Node() = default;

  const std::string& name() const { return name_; }
  int num_outputs() const { return num_outputs_; }
  bool released() const { return released_; }
  bool needs_input_grad(size_t input) const {
    return input < next_edges.size() && next_edges[input].node != nullptr;
  }

  virtual std::vector<Tensor> apply(const std::vector<Tensor>& grads);
  // Frees the saved tensors and the edges; a later apply() raises a clear error.
  virtual void release();

  std::vector<Edge> next_edges;
  std::vector<TensorMeta> inputs;  // the shape, dtype and device of each input
  std::vector<Tensor> saved;

 private:
  std::string name_;
  BackwardFn fn_;
  int num_outputs_;
  bool released_ = false;
};

// The node that adds incoming gradients into a leaf's .grad(). It survives backward (leaves are
// reused by every step), so it is never released.
class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(const std::shared_ptr<TensorImpl>& leaf);
  std::vector<Tensor> apply(const std::vector<Tensor>& grads) override;
  void release() override {}

 private:
  std::weak_ptr<TensorImpl> leaf_;
};

// Removes a hook when destroyed (or at remove()); movable, not copyable. A handle outliving its
// tensor does nothing.
class HookHandle {
 public:
  HookHandle() = default;
  HookHandle(std::weak_ptr<TensorImpl> leaf, int64_t id) : leaf_(std::move(leaf)), id_(id) {}
  HookHandle(HookHandle&& other) noexcept;
  HookHandle& operator=(HookHandle&& other) noexcept;
  HookHandle(const HookHandle&) = delete;
  HookHandle& operator=(const HookHandle&) = delete;
  ~HookHandle() { remove(); }
  void remove();

 private:
  std::weak_ptr<TensorImpl> leaf_;
  int64_t id_ = -1;
};

// Runs `hook(leaf)` each time a backward has added its gradient into leaf.grad() (PyTorch's
// register_post_accumulate_grad_hook): within one backward this is once per leaf, after every
// path to the leaf has been summed, so leaf.grad() then holds this backward's full contribution.
// Hooks run in registration order on the thread that runs backward, with grad mode off; a hook
// must not add or remove hooks of the same leaf. `leaf` must be a leaf that requires grad.
[[nodiscard]] HookHandle register_post_accumulate_grad_hook(
    const Tensor& leaf, std::function<void(const Tensor&)> hook);

// Where the gradient of `t` must be sent: its grad_fn, or its accumulator if it is a leaf that
// requires grad, or nowhere.
Edge gradient_edge(const Tensor& t);

struct GradMath {
  Tensor (*add)(const Tensor& a, const Tensor& b) = nullptr;
  Tensor (*ones_like)(const Tensor& t) = nullptr;
  Tensor (*clone)(const Tensor& t) = nullptr;
};
void install_grad_math(const GradMath& math);
const GradMath& grad_math();

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph);

bool grad_enabled();
void set_grad_enabled(bool enabled);

// Ops run inside the scope record no graph (evaluation, optimizer updates).
class NoGradGuard {
 public:
  NoGradGuard() : previous_(grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace simclr
