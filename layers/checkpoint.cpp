#include "layers/checkpoint.h"

#include <nlohmann/json.hpp>

#include <set>

#include "core/safetensors.h"
#include "kernels/ops.h"

namespace simclr {

namespace {

// One entry of the module's state: where it lives and how it is laid out on disk.
struct StateEntry {
  Tensor* value;
  std::vector<int64_t> to_disk;
};

std::vector<std::pair<std::string, StateEntry>> module_state(Module& module) {
  std::vector<std::pair<std::string, StateEntry>> state;
  for (auto& [name, p] : module.named_parameters())
    state.push_back({name, {&p->value, p->to_disk}});
  for (auto& [name, b] : module.named_buffers()) state.push_back({name, {&b->value, {}}});
  return state;
}

std::vector<int64_t> inverse(const std::vector<int64_t>& perm) {
  std::vector<int64_t> inv(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    inv[static_cast<size_t>(perm[i])] = static_cast<int64_t>(i);
  return inv;
}

Shape disk_shape(const Tensor& t, const std::vector<int64_t>& to_disk) {
  if (to_disk.empty()) return t.shape();
  std::vector<int64_t> dims;
  for (int64_t d : to_disk) dims.push_back(t.shape()[static_cast<int>(d)]);
  return Shape(dims);
}

std::string list(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

void save_checkpoint(const std::string& path, Module& module,
                     const std::vector<std::pair<std::string, Tensor>>& extra,
                     const std::map<std::string, std::string>& metadata) {
  NoGradGuard no_grad;
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (auto& [name, entry] : module_state(module)) {
    const Tensor& t = *entry.value;
    tensors.emplace_back(name, entry.to_disk.empty() ? t : permute(t, entry.to_disk));
  }
  nlohmann::json extra_names = nlohmann::json::array();
  for (const auto& [name, t] : extra) {
    tensors.emplace_back(name, t);
    extra_names.push_back(name);
  }
  std::map<std::string, std::string> meta = metadata;
  meta[kExtraTensorsKey] = extra_names.dump();
  save_safetensors(path, tensors, meta);
}

Checkpoint load_checkpoint(const std::string& path, Module& module, bool strict) {
  SafetensorsData data = load_safetensors(path);
  Checkpoint result;
  result.metadata = data.metadata;
  std::set<std::string> extra_names;
  if (auto it = result.metadata.find(kExtraTensorsKey); it != result.metadata.end()) {
    const nlohmann::json names = nlohmann::json::parse(it->second, nullptr, false);
    SIMCLR_CHECK(names.is_array(), path, ": metadata ", kExtraTensorsKey,
                 " is not a JSON array of names");
    for (const auto& n : names) extra_names.insert(n.get<std::string>());
    result.metadata.erase(it);
  }
  for (const auto& [name, t] : data.tensors)
    if (extra_names.count(name)) result.extra.emplace_back(name, t);

  std::vector<std::string> missing, unexpected, misshaped;
  std::set<std::string> known;
  const auto state = module_state(module);
  for (const auto& [name, entry] : state) {
    known.insert(name);
    const Tensor* disk = data.find(name);
    const Shape expected = disk_shape(*entry.value, entry.to_disk);
    if (!disk) {
      missing.push_back(name);
    } else if (disk->shape() != expected) {
      misshaped.push_back(name + " (file " + disk->shape().str() + ", model " + expected.str() +
                          ")");
    }
  }
  for (const auto& [name, t] : data.tensors)
    if (!known.count(name) && !extra_names.count(name)) unexpected.push_back(name);
  if (strict) {
    SIMCLR_CHECK(missing.empty() && unexpected.empty() && misshaped.empty(), path,
                 ": the checkpoint does not match the ", module.name(), ": missing keys [",
                 list(missing), "]; unexpected keys [", list(unexpected), "]; mis-shaped keys [",
                 list(misshaped), "]");
  }
  NoGradGuard no_grad;
  for (const auto& [name, entry] : state) {
    const Tensor* disk = data.find(name);
    if (!disk || disk->shape() != disk_shape(*entry.value, entry.to_disk)) continue;
    Tensor source = entry.to_disk.empty() ? *disk : permute(*disk, inverse(entry.to_disk));
    copy_(*entry.value, source);
  }
  return result;
}

}  // namespace simclr
