// A per-thread buffer that the CPU kernels reuse from call to call, so that a training step does
// not page in fresh memory for every convolution. Each type has one buffer per thread, grown as
// needed and never zeroed: callers write what they read.
#pragma once

#include <cstddef>
#include <memory>

namespace simclr::cpu {

template <typename T>
T* scratch(size_t count) {
  thread_local std::unique_ptr<T[]> buffer;
  thread_local size_t capacity = 0;
  if (capacity < count) {
    buffer.reset();
    buffer.reset(new T[count]);
    capacity = count;
  }
  return buffer.get();
}

}  // namespace simclr::cpu
