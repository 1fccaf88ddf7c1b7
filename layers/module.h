// Module: a node of a model tree. It owns named parameters (trainable tensors), named buffers
// (state such as BN running statistics) and named child modules, and walks them recursively with
// PyTorch's dotted names ("layer1.0.conv1.weight"), so state dicts match torchvision's.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace simclr {

// A trainable tensor (fp32 master weights) with what optimizers and checkpoints need to know.
struct Parameter {
  Tensor value;
  // False for biases and BN parameters: SimCLR's LARS neither decays nor adapts them.
  bool weight_decay = true;
  // How the in-memory layout maps to PyTorch's on disk: disk = permute(value, to_disk); empty
  // when they agree. Conv2d filters are [k, r, s, c] here and OIHW [k, c, r, s] on disk.
  std::vector<int64_t> to_disk;
};

struct Buffer {
  Tensor value;
  bool host = false;  // stays on the CPU when the module moves (counters)
};

class Module {
 public:
  virtual ~Module() = default;

  // Modules with one input and one output; composite modules may add their own overloads.
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }
  virtual std::string name() const = 0;  // "Conv2d", "ResNet", ...

  std::vector<std::pair<std::string, Parameter*>> named_parameters();
  std::vector<std::pair<std::string, Buffer*>> named_buffers();
  std::vector<std::pair<std::string, Module*>> named_modules();  // this one first, as ""
  std::vector<Tensor> parameters();
  int64_t parameter_count();

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)).
  void zero_grad();
  // Moves parameters and (non-host) buffers to `device`; parameters stay leaves.
  void to(Device device);

 protected:
  // The returned pointers stay valid for the module's life (Module::to swaps the tensor inside).
  Parameter* register_parameter(std::string name, Tensor value, bool weight_decay = true,
                                std::vector<int64_t> to_disk = {});
  Buffer* register_buffer(std::string name, Tensor value, bool host = false);
  template <typename M>
  std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> module) {
    children_.emplace_back(std::move(name), module);
    return module;
  }

 private:
  void collect(const std::string& prefix, std::vector<std::pair<std::string, Module*>>& out);

  // Deques: registering more never moves the ones already handed out.
  std::deque<std::pair<std::string, Parameter>> parameters_;
  std::deque<std::pair<std::string, Buffer>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace simclr
