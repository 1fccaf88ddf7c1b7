// Containers and the parameterless layers: Sequential, ReLU, MaxPool2d, global average pooling
// and Flatten.
#pragma once

#include "kernels/nn_ops.h"
#include "layers/module.h"

namespace simclr {

// Runs its children in order; they are named "0", "1", ... as in torch.nn.Sequential.
class Sequential : public Module {
 public:
  template <typename M>
  std::shared_ptr<M> add(std::shared_ptr<M> module) {
    modules_.push_back(module);
    return register_module(std::to_string(modules_.size() - 1), module);
  }
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "Sequential"; }
  size_t size() const { return modules_.size(); }
  Module& operator[](size_t i) { return *modules_.at(i); }

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override { return relu(x); }
  std::string name() const override { return "ReLU"; }
};

class MaxPool2d : public Module {
 public:
  MaxPool2d(int64_t kernel, int64_t stride, int64_t padding = 0)
      : kernel_(kernel), stride_(stride), padding_(padding) {}
  Tensor forward(const Tensor& x) override {
    return max_pool2d(x, {kernel_, kernel_}, {stride_, stride_}, {padding_, padding_});
  }
  std::string name() const override { return "MaxPool2d"; }

 private:
  int64_t kernel_, stride_, padding_;
};

// AdaptiveAvgPool2d((1, 1)) followed by flatten: [n, h, w, c] -> [n, c].
class GlobalAvgPool2d : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string name() const override { return "GlobalAvgPool2d"; }
};

class Flatten : public Module {
 public:
  Tensor forward(const Tensor& x) override { return flatten(x, 1); }
  std::string name() const override { return "Flatten"; }
};

}  // namespace simclr
