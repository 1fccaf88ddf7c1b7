// Whole-file reads and atomic writes, and the bytes of a tensor for the file formats
// (core/safetensors.h, core/npy.h). Checkpoints lose nothing: a write either replaces the file
// whole or leaves the old one as it was.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace simclr {

// The whole file. Throws naming the path and the system's reason (errno text) when it cannot be
// opened or read.
std::vector<char> read_file(const std::string& path);

// Writes `size` bytes to `path + ".tmp.<pid>"` in the same directory, fsyncs it, renames it over
// `path` and fsyncs the directory. On any failure the temporary is removed, a file already at
// `path` is left untouched, and the error names the path. Two threads of one process must not
// write the same path at once (they would share the temporary's name).
void write_file_atomic(const std::string& path, const void* data, size_t size);

// Copies the elements of `t` in row-major (C) order into `dst`, which holds t.nbytes() bytes.
// Any strides and any device: a CUDA tensor is copied to the host after its device's current
// stream has finished.
void copy_tensor_bytes(const Tensor& t, void* dst);

}  // namespace simclr
