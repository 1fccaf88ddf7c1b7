// Shared by the op files: turning tensors into kernel Layouts, choosing the backend, recording
// autograd nodes. Not part of the public API.
#pragma once

#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/tensor.h"
#include "kernels/backends.h"

namespace simclr::detail {

Layout layout_of(const Tensor& t);
// t's layout seen through broadcasting to `shape` (stride 0 on broadcast dimensions).
Layout broadcast_layout(const Tensor& t, const Shape& shape);
// A contiguous layout of `shape`.
Layout contiguous_layout(const Shape& shape);

[[noreturn]] void no_cuda(const char* kernel);
void check_floating(const Tensor& t, const char* op);

// Makes `out` the output of a new autograd node `name` when grad mode is on and one of `inputs`
// requires grad. `saved` is kept for backward; pass outputs through detach() to avoid a cycle.
Tensor record(Tensor out, const char* name, const std::vector<Tensor>& inputs,
              std::vector<Tensor> saved, Node::BackwardFn fn);
bool needs_grad(const std::vector<Tensor>& inputs);

}  // namespace simclr::detail

// Calls simclr::cpu::kernel or simclr::cuda::kernel with the same arguments.
#if SIMCLR_WITH_CUDA
#define SIMCLR_DISPATCH(device, kernel, ...) \
  do {                                       \
    if ((device).is_cpu()) {                 \
      ::simclr::cpu::kernel(__VA_ARGS__);    \
    } else {                                 \
      ::simclr::cuda::kernel(__VA_ARGS__);   \
    }                                        \
  } while (false)
#else
#define SIMCLR_DISPATCH(device, kernel, ...) \
  do {                                       \
    if ((device).is_cpu()) {                 \
      ::simclr::cpu::kernel(__VA_ARGS__);    \
    } else {                                 \
      ::simclr::detail::no_cuda(#kernel);    \
    }                                        \
  } while (false)
#endif
