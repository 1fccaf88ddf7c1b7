// index_select: one memcpy per row.
#include <cstring>

#include "kernels/backends.h"

namespace simclr::cpu {

void index_select(int64_t rows, int64_t row_bytes, const void* in_ptr, const int64_t* indices,
                  void* out_ptr, Stream) {
  const auto* in = static_cast<const char*>(in_ptr);
  auto* out = static_cast<char*>(out_ptr);
  for (int64_t i = 0; i < rows; ++i)
    std::memcpy(out + i * row_bytes, in + indices[i] * row_bytes, static_cast<size_t>(row_bytes));
}

}  // namespace simclr::cpu
