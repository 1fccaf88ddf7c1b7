#include "core/allocator.h"

#include <cstdlib>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <memory>
#include <mutex>
#include <vector>

#include "core/caching_allocator.h"
#include "core/cuda_device.h"
#include "core/error.h"

#if SIMCLR_WITH_CUDA
#include <cuda_runtime_api.h>

#include "core/device_guard.h"
#include "core/library_check.h"
#endif

namespace simclr {

namespace {

// glibc serves blocks above its mmap threshold with a fresh mmap and unmaps them on free, so every
// training step would fault in its activations again (page faults were 6% of a CPU step). Keep
// blocks up to glibc's largest threshold (32 MiB) on the heap and freed memory mapped instead.
bool keep_freed_host_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  return true;
}

}  // namespace

void* CpuAllocator::allocate(size_t bytes, Stream) {
  static const bool tuned = keep_freed_host_memory();
  (void)tuned;
  const size_t size = (std::max<size_t>(bytes, 1) + kAlignment - 1) / kAlignment * kAlignment;
  void* ptr = std::aligned_alloc(kAlignment, size);
  SIMCLR_CHECK(ptr, "out of host memory: tried to allocate ", bytes, " bytes");
  return ptr;
}

void CpuAllocator::deallocate(void* ptr) {
  std::free(ptr);
}

#if SIMCLR_WITH_CUDA
namespace {

class CudaMemory : public DeviceMemory {
 public:
  explicit CudaMemory(int device) : device_(device) {}
  std::string name() const override { return "cuda:" + std::to_string(device_); }

  void* malloc(size_t bytes) override {
    DeviceGuard guard(device_);
    void* ptr = nullptr;
    cudaError_t status = cudaMalloc(&ptr, bytes);
    if (status == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // clear it: the caller decides what out of memory means
      return nullptr;
    }
    SIMCLR_CUDA_CHECK(status);
    return ptr;
  }
  void free(void* ptr) override {
    DeviceGuard guard(device_);
    SIMCLR_CUDA_CHECK(cudaFree(ptr));
  }
  void mem_info(size_t* free_bytes, size_t* total_bytes) override {
    DeviceGuard guard(device_);
    SIMCLR_CUDA_CHECK(cudaMemGetInfo(free_bytes, total_bytes));
  }
  void* record_event(void* stream) override {
    DeviceGuard guard(device_);
    cudaEvent_t event = nullptr;
    SIMCLR_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
    SIMCLR_CUDA_CHECK(cudaEventRecord(event, static_cast<cudaStream_t>(stream)));
    return event;
  }
  bool event_done(void* event) override {
    cudaError_t status = cudaEventQuery(static_cast<cudaEvent_t>(event));
    if (status == cudaErrorNotReady) {
      cudaGetLastError();  // "not yet" is an answer: leave no error for the next launch check
      return false;
    }
    SIMCLR_CUDA_CHECK(status);
    return true;
  }
  void destroy_event(void* event) override {
    SIMCLR_CUDA_CHECK(cudaEventDestroy(static_cast<cudaEvent_t>(event)));
  }

 private:
  int device_;
};

}  // namespace
#endif

CachingAllocator& cuda_caching_allocator(int device) {
  SIMCLR_CHECK(built_with_cuda(), "cuda:", device, ": simclr was built without CUDA");
  const int count = cuda_device_count();
  SIMCLR_CHECK(device >= 0 && device < count, "cuda:", device, " is not available (",
               count == 0 ? cuda_unavailable_reason() : std::to_string(count) + " CUDA devices",
               ")");
  static std::mutex mutex;
  // Never destroyed: tensors with static lifetime may free into it during process exit.
  static auto* allocators = new std::vector<std::unique_ptr<CachingAllocator>>();
  std::lock_guard<std::mutex> lock(mutex);
  if (allocators->size() < static_cast<size_t>(count))
    allocators->resize(static_cast<size_t>(count));
  auto& slot = (*allocators)[static_cast<size_t>(device)];
#if SIMCLR_WITH_CUDA
  if (!slot) {
    const char* off = std::getenv("SIMCLR_NO_CUDA_CACHING");
    const bool caching = !(off && std::string(off) == "1");
    slot = std::make_unique<CachingAllocator>(std::make_unique<CudaMemory>(device), caching);
  }
#endif
  return *slot;
}

Allocator& allocator_for(Device device) {
  static CpuAllocator cpu;
  if (device.is_cpu()) return cpu;
  return cuda_caching_allocator(device.index);
}

}  // namespace simclr
