// Checkpoints of any Module as safetensors: torchvision's key names and PyTorch's tensor layout
// (filters OIHW on disk whatever the layout in memory), so torch's load_state_dict takes them,
// plus extra tensors (optimizer state, ...) and string metadata (step, config, ...). Written
// atomically: a crash mid-save leaves the previous checkpoint whole.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "layers/module.h"

namespace simclr {

// Metadata key listing the extra tensors' names (JSON array), so a loader can tell them from
// unexpected keys and PyTorch code can drop them before load_state_dict(strict=True).
inline constexpr const char* kExtraTensorsKey = "simclr.extra_tensors";

void save_checkpoint(const std::string& path, Module& module,
                     const std::vector<std::pair<std::string, Tensor>>& extra = {},
                     const std::map<std::string, std::string>& metadata = {});

struct Checkpoint {
  std::vector<std::pair<std::string, Tensor>> extra;  // CPU tensors, as saved
  std::map<std::string, std::string> metadata;        // without kExtraTensorsKey
};

// Loads the module's parameters and buffers in place (on the module's devices). Strict: every
// missing, unexpected and mis-shaped key is listed in one error naming the file; not strict:
// keys that match are loaded and the others ignored.
Checkpoint load_checkpoint(const std::string& path, Module& module, bool strict = true);

}  // namespace simclr
