// Allocators: where Storage gets its bytes. The CPU allocator returns 64-byte aligned host memory;
// each CUDA device has a CachingAllocator (core/caching_allocator.h) over cudaMalloc.
#pragma once

#include <cstddef>

#include "core/device.h"
#include "core/stream.h"

namespace simclr {

class Allocator {
 public:
  virtual ~Allocator() = default;
  // Memory usable by work queued on `stream` (for CUDA) or by the host (for CPU).
  virtual void* allocate(size_t bytes, Stream stream) = 0;
  virtual void deallocate(void* ptr) = 0;
};

class CpuAllocator : public Allocator {
 public:
  static constexpr size_t kAlignment = 64;
  void* allocate(size_t bytes, Stream stream) override;
  void deallocate(void* ptr) override;
};

// The allocator that serves `device`; throws for a CUDA device that does not exist.
Allocator& allocator_for(Device device);

}  // namespace simclr
