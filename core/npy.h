// NumPy's .npy format (numpy.lib.format), for exchanging single arrays with Python: golden test
// data, embeddings, evaluation outputs. np.load reads what save_npy writes, and load_npy reads
// what np.save writes.
#pragma once

#include <string>

#include "core/tensor.h"

namespace simclr {

// Writes `t` (any device, any strides) as a version 1.0 .npy file in C order, with the header
// byte for byte as numpy writes it, atomically (core/file_io.h). Dtypes: f32 '<f4', f64 '<f8',
// f16 '<f2', u8 '|u1', i32 '<i4', i64 '<i8'. bf16 has no NumPy dtype and is refused.
void save_npy(const std::string& path, const Tensor& t);

// Reads a .npy file (format 1.0, 2.0 or 3.0) of one of the dtypes above, little-endian and in C
// order, into a contiguous CPU tensor. Big-endian data, Fortran order, other dtypes and truncated
// files are refused with an error naming the file.
Tensor load_npy(const std::string& path);

}  // namespace simclr
