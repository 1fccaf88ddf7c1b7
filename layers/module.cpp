#include "layers/module.h"

#include "kernels/ops.h"

namespace simclr {

namespace {
std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}
}  // namespace

void Module::collect(const std::string& prefix, std::vector<std::pair<std::string, Module*>>& out) {
  out.emplace_back(prefix, this);
  for (auto& [name, child] : children_) child->collect(join(prefix, name), out);
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out;
  collect("", out);
  return out;
}

std::vector<std::pair<std::string, Parameter*>> Module::named_parameters() {
  std::vector<std::pair<std::string, Parameter*>> out;
  for (auto& [prefix, module] : named_modules())
    for (auto& [name, p] : module->parameters_) out.emplace_back(join(prefix, name), &p);
  return out;
}

std::vector<std::pair<std::string, Buffer*>> Module::named_buffers() {
  std::vector<std::pair<std::string, Buffer*>> out;
  for (auto& [prefix, module] : named_modules())
    for (auto& [name, b] : module->buffers_) out.emplace_back(join(prefix, name), &b);
  return out;
}

std::vector<Tensor> Module::parameters() {
  std::vector<Tensor> out;
  for (auto& [name, p] : named_parameters()) out.push_back(p->value);
  return out;
}

int64_t Module::parameter_count() {
  int64_t n = 0;
  for (auto& [name, p] : named_parameters()) n += p->value.numel();
  return n;
}

void Module::train(bool on) {
  for (auto& [name, module] : named_modules()) module->training_ = on;
}

void Module::zero_grad() {
  for (auto& [name, p] : named_parameters()) p->value.set_grad(Tensor());
}

void Module::to(Device device) {
  NoGradGuard no_grad;
  for (auto& [name, p] : named_parameters()) {
    if (p->value.device() == device) continue;
    Tensor moved = simclr::to(p->value, device);
    moved.set_requires_grad(true);
    p->value = moved;
  }
  for (auto& [name, b] : named_buffers())
    if (!b->host) b->value = simclr::to(b->value, device);
}

Parameter* Module::register_parameter(std::string name, Tensor value, bool weight_decay,
                                      std::vector<int64_t> to_disk) {
  value.set_requires_grad(true);
  parameters_.emplace_back(std::move(name), Parameter{value, weight_decay, std::move(to_disk)});
  return &parameters_.back().second;
}

Buffer* Module::register_buffer(std::string name, Tensor value, bool host) {
  buffers_.emplace_back(std::move(name), Buffer{value, host});
  return &buffers_.back().second;
}

}  // namespace simclr
