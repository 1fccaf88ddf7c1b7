#include "core/autograd.h"

#include <atomic>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace simclr {

namespace {
thread_local bool grad_mode = true;
GradMath installed_math;
}  // namespace

bool grad_enabled() {
  return grad_mode;
}
void set_grad_enabled(bool enabled) {
  grad_mode = enabled;
}

void install_grad_math(const GradMath& math) {
  installed_math = math;
}

const GradMath& grad_math() {
  SIMCLR_CHECK(installed_math.add && installed_math.ones_like && installed_math.clone,
               "autograd: no gradient arithmetic installed; link simclr_kernels and run an op "
               "from kernels/ops.h before backward()");
  return installed_math;
}

Node::Node(std::string name, BackwardFn fn, int num_outputs)
    : name_(std::move(name)), fn_(std::move(fn)), num_outputs_(num_outputs) {}

std::vector<Tensor> Node::apply(const std::vector<Tensor>& grads) {
  SIMCLR_CHECK(!released_, "backward through ", name_,
               " a second time: its saved tensors were freed by the first backward(); call the "
               "first backward with retain_graph=true to run backward twice through one graph");
  return fn_(*this, grads);
}

void Node::release() {
  saved.clear();
  next_edges.clear();
  fn_ = nullptr;
  released_ = true;
}

AccumulateGrad::AccumulateGrad(const std::shared_ptr<TensorImpl>& leaf)
    : Node("AccumulateGrad", nullptr), leaf_(leaf) {}

std::vector<Tensor> AccumulateGrad::apply(const std::vector<Tensor>& grads) {
  std::shared_ptr<TensorImpl> leaf = leaf_.lock();
  if (!leaf || !grads[0].defined()) return {};
  NoGradGuard no_grad;
  // A copy, not the incoming tensor: the gradient may alias another gradient, and optimizers and
  // all-reduce modify .grad in place.
  leaf->grad =
      leaf->grad.defined() ? grad_math().add(leaf->grad, grads[0]) : grad_math().clone(grads[0]);
  if (!leaf->post_accumulate_grad_hooks.empty()) {
    const Tensor handle(leaf);
    for (const auto& entry : leaf->post_accumulate_grad_hooks) entry.second(handle);
  }
  return {};
}

HookHandle::HookHandle(HookHandle&& other) noexcept
    : leaf_(std::move(other.leaf_)), id_(std::exchange(other.id_, -1)) {}

HookHandle& HookHandle::operator=(HookHandle&& other) noexcept {
  if (this != &other) {
    remove();
    leaf_ = std::move(other.leaf_);
    id_ = std::exchange(other.id_, -1);
  }
  return *this;
}

void HookHandle::remove() {
  if (std::shared_ptr<TensorImpl> leaf = leaf_.lock()) {
    std::erase_if(leaf->post_accumulate_grad_hooks,
                  [this](const auto& entry) { return entry.first == id_; });
  }
  leaf_.reset();
  id_ = -1;
}

HookHandle register_post_accumulate_grad_hook(const Tensor& leaf,
                                              std::function<void(const Tensor&)> hook) {
  SIMCLR_CHECK(
      leaf.defined() && leaf.is_leaf() && leaf.requires_grad(),
      "register_post_accumulate_grad_hook: expected a leaf tensor that requires grad, got ",
      leaf.defined() ? leaf.str() : std::string("an undefined tensor"),
      leaf.defined() && !leaf.is_leaf() ? " (made by an op)" : "");
  SIMCLR_CHECK(hook != nullptr, "register_post_accumulate_grad_hook: the hook is empty");
  static std::atomic<int64_t> next_id{0};
  const int64_t id = next_id++;
  leaf.impl()->post_accumulate_grad_hooks.emplace_back(id, std::move(hook));
  return HookHandle(leaf.impl_ptr(), id);
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined()) return {};
  if (t.grad_fn()) return {t.grad_fn(), t.output_nr()};
  if (!t.requires_grad()) return {};
  TensorImpl* impl = t.impl();
  std::shared_ptr<Node> acc = impl->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
    acc->inputs.push_back({t.shape(), t.dtype(), t.device()});
    impl->grad_accumulator = acc;
  }
  return {acc, 0};
}

namespace {

void check_gradient(const Node& node, size_t input, const Tensor& grad) {
  const TensorMeta& meta = node.inputs[input];
  SIMCLR_CHECK(
      grad.shape() == meta.shape && grad.dtype() == meta.dtype && grad.device() == meta.device,
      "backward of ", node.name(), " returned a gradient ", grad.str(), " for input ", input,
      " which is ", meta.shape.str(), " ", dtype_name(meta.dtype), " ", meta.device.str());
}

// Counts, for every node reachable from root, how many edges lead into it.
std::unordered_map<Node*, int> count_dependencies(Node* root) {
  std::unordered_map<Node*, int> deps;
  std::unordered_set<Node*> seen{root};
  std::vector<Node*> stack{root};
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (const Edge& e : node->next_edges) {
      if (!e.node) continue;
      ++deps[e.node.get()];
      if (seen.insert(e.node.get()).second) stack.push_back(e.node.get());
    }
  }
  return deps;
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  SIMCLR_CHECK(root.defined(), "backward: called on an undefined tensor");
  SIMCLR_CHECK(root.requires_grad(),
               "backward: the tensor does not require grad and has no grad_fn: ", root.str());
  Tensor root_grad = grad;
  if (!root_grad.defined()) {
    SIMCLR_CHECK(root.numel() == 1,
                 "backward: a gradient can be created implicitly only for a tensor of one "
                 "element (a loss), got ",
                 root.shape().str(), "; pass the output gradient to backward(grad)");
    root_grad = grad_math().ones_like(root);
  }
  SIMCLR_CHECK(root_grad.shape() == root.shape() && root_grad.dtype() == root.dtype() &&
                   root_grad.device() == root.device(),
               "backward: the output gradient ", root_grad.str(), " does not match the tensor ",
               root.str());

  const Edge start = gradient_edge(root);
  std::unordered_map<Node*, int> deps = count_dependencies(start.node.get());
  std::unordered_map<Node*, std::vector<Tensor>> buffers;
  buffers[start.node.get()].resize(static_cast<size_t>(start.node->num_outputs()));
  buffers[start.node.get()][static_cast<size_t>(start.input_nr)] = root_grad;

  std::vector<std::shared_ptr<Node>> ready{start.node};
  NoGradGuard no_grad;
  while (!ready.empty()) {
    std::shared_ptr<Node> node = std::move(ready.back());
    ready.pop_back();
    std::vector<Tensor> grads = std::move(buffers[node.get()]);
    buffers.erase(node.get());
    bool any = false;
    for (const Tensor& g : grads) any = any || g.defined();

    std::vector<Tensor> input_grads;
    if (any) input_grads = node->apply(grads);
    const std::vector<Edge> edges = node->next_edges;
    SIMCLR_CHECK(!any || input_grads.size() == edges.size() || edges.empty(), "backward of ",
                 node->name(), " returned ", input_grads.size(), " gradients for ", edges.size(),
                 " inputs");
    if (!retain_graph) node->release();

    for (size_t i = 0; i < edges.size(); ++i) {
      const Edge& e = edges[i];
      if (!e.node) continue;
      if (i < input_grads.size() && input_grads[i].defined()) {
        check_gradient(*node, i, input_grads[i]);
        std::vector<Tensor>& slot = buffers[e.node.get()];
        slot.resize(static_cast<size_t>(e.node->num_outputs()));
        Tensor& acc = slot[static_cast<size_t>(e.input_nr)];
        acc = acc.defined() ? grad_math().add(acc, input_grads[i]) : input_grads[i];
      }
      if (--deps[e.node.get()] == 0) ready.push_back(e.node);
    }
  }
}

}  // namespace simclr
