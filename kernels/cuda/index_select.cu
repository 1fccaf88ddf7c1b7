// index_select: a grid-stride loop over the output's bytes, or its 4-byte words when the row size
// allows (rows of 28 x 28 or 32 x 32 x 3 uint8 pixels are whole words); one thread per unit.
#include "kernels/backends.h"
#include "kernels/cuda/launch.cuh"

namespace simclr::cuda {

namespace {
template <typename T>
__global__ void gather_rows(int64_t rows, int64_t row_units, const T* in, const int64_t* indices,
                            T* out) {
  const int64_t n = rows * row_units;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const int64_t row = i / row_units, unit = i - row * row_units;
    out[i] = in[indices[row] * row_units + unit];
  }
}

template <typename T>
void launch(int64_t rows, int64_t row_units, const void* in, const int64_t* indices, void* out,
            Stream stream) {
  LaunchGuard guard(stream);
  gather_rows<<<grid_for(rows * row_units), kThreads, 0, raw(stream)>>>(
      rows, row_units, static_cast<const T*>(in), indices, static_cast<T*>(out));
  SIMCLR_CUDA_CHECK(cudaGetLastError());
}
}  // namespace

void index_select(int64_t rows, int64_t row_bytes, const void* in_ptr, const int64_t* indices,
                  void* out_ptr, Stream stream) {
  const auto aligned = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 4 == 0; };
  if (row_bytes % 4 == 0 && aligned(in_ptr) && aligned(out_ptr)) {
    launch<uint32_t>(rows, row_bytes / 4, in_ptr, indices, out_ptr, stream);
  } else {
    launch<uint8_t>(rows, row_bytes, in_ptr, indices, out_ptr, stream);
  }
}

}  // namespace simclr::cuda
