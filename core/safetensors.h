// The safetensors format (https://github.com/huggingface/safetensors), the on-disk form of our
// checkpoints and weights: 8 bytes of little-endian header length N, N bytes of JSON header
//   {"__metadata__": {"key": "value", ...},
//    "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
// padded with spaces to a multiple of 8 bytes, then the data buffer; offsets are relative to the
// start of the buffer, and every tensor is stored contiguous, row-major, little-endian. Names and
// layouts follow PyTorch (see DESIGN.md), so safetensors.torch.load_file reads our files.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace simclr {

struct SafetensorsData {
  std::vector<std::pair<std::string, Tensor>> tensors;  // in the order they lie in the file
  std::map<std::string, std::string> metadata;
  // The tensor of that name, or nullptr.
  const Tensor* find(const std::string& name) const;
};

// The safetensors name of a dtype ("F32", "BF16", ...).
const char* safetensors_dtype_name(DType dtype);

// Writes the tensors (any device, any strides) in the order given, with the metadata, atomically
// (core/file_io.h). Duplicate names, the reserved name "__metadata__" and undefined tensors are
// refused. Dtypes: F32 F64 BF16 F16 U8 I32 I64.
void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Reads a safetensors file into contiguous CPU tensors, in the order of their data offsets. Any
// malformed input is a simclr::Error that names the file and what was wrong.
SafetensorsData load_safetensors(const std::string& path);

}  // namespace simclr
