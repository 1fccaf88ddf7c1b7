// Helpers shared by the MPI and NCCL process groups (dist/process_group.cpp and
// dist/nccl_process_group.cpp); not part of the public API.
#pragma once

#include <mpi.h>

#include "core/autograd.h"
#include "core/tensor.h"
#include "kernels/ops.h"

namespace simclr::detail {

bool mpi_running();
// A private duplicate of MPI_COMM_WORLD whose errors return codes (checked) instead of aborting
// inside MPI.
MPI_Comm duplicate_world();
void check_defined(const Tensor& t, const char* op);
// local's shape with dim 0 multiplied by the world size.
Shape gathered_shape(const Tensor& local, int world);

// Runs `fn` on a contiguous tensor holding t's values and writes the result back into t when t
// itself was not contiguous.
template <typename Fn>
void in_place_contiguous(Tensor& t, Fn fn) {
  NoGradGuard no_grad;
  if (t.is_contiguous()) {
    fn(t);
    return;
  }
  Tensor c = contiguous(t.detach());
  fn(c);
  copy_(t, c);
}

}  // namespace simclr::detail
