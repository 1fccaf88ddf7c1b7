// Shared by the dist tests: one MPI process group per test process, started on first use and
// finalized at exit. Under ctest's discovered entries each test runs as a job of one rank; the
// "[mpi]" entry runs every [mpi] test under mpirun -np 2. Checks between collectives use CHECK,
// not REQUIRE, so that a failing rank still takes part in the collectives that follow.
#pragma once

#include <memory>
#include <vector>

#include "dist/process_group.h"
#include "kernels/ops.h"

namespace simclr::test {

inline ProcessGroup& test_group() {
  struct Holder {
    std::unique_ptr<ProcessGroup> group;
    ~Holder() {
      group.reset();
      try {
        finalize_distributed();
      } catch (...) {
      }
    }
  };
  static Holder holder{init_distributed(DeviceType::cpu)};
  return *holder.group;
}

// [W * 2B, ...] in rank order ([view-1 rows; view-2 rows] per rank) -> [2N, ...] with all first
// views, then all second views; written with plain loops, independently of dist/.
inline Tensor pair_layout(const Tensor& gathered, int64_t world, int64_t b) {
  NoGradGuard no_grad;
  const Tensor src = to(contiguous(gathered.detach()), DType::f64);
  const std::vector<double> in = to_vector<double>(src);
  const int64_t row = gathered.numel() / gathered.size(0);
  std::vector<double> out(in.size());
  for (int64_t r = 0; r < world; ++r)
    for (int64_t v = 0; v < 2; ++v)
      for (int64_t i = 0; i < b; ++i) {
        const int64_t from = r * 2 * b + v * b + i;
        const int64_t to_row = v * world * b + r * b + i;
        for (int64_t k = 0; k < row; ++k)
          out[static_cast<size_t>(to_row * row + k)] = in[static_cast<size_t>(from * row + k)];
      }
  return to(from_vector(out, gathered.shape()), gathered.dtype());
}

// Rows [r B, (r + 1) B) and [N + r B, N + (r + 1) B) of a global [2N, ...] tensor: rank r's share.
inline Tensor rank_rows(const Tensor& global, int64_t rank, int64_t world, int64_t b) {
  NoGradGuard no_grad;
  const int64_t n = world * b;
  std::vector<int64_t> dims = global.shape().dims();
  dims[0] = 2 * b;
  Tensor out = Tensor::empty(Shape(dims), global.dtype(), global.device());
  Tensor top = slice(out, 0, 0, b), bottom = slice(out, 0, b, 2 * b);
  copy_(top, slice(global, 0, rank * b, (rank + 1) * b));
  copy_(bottom, slice(global, 0, n + rank * b, n + (rank + 1) * b));
  return out;
}

}  // namespace simclr::test
