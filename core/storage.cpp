#include "core/storage.h"

#include <atomic>
#include <cstring>

#if SIMCLR_WITH_CUDA
#include <cuda_runtime_api.h>

#include "core/device_guard.h"
#include "core/library_check.h"
#endif

namespace simclr {

namespace {
std::atomic<bool> poison_allocations{false};
}

void Storage::set_poison(bool poison) {
  poison_allocations = poison;
}
bool Storage::poison() {
  return poison_allocations;
}

Storage::Storage(Device device, size_t nbytes)
    : device_(device),
      nbytes_(nbytes),
      allocator_(&allocator_for(device)),
      data_(allocator_->allocate(nbytes, current_stream(device))) {
  if (!poison_allocations || nbytes == 0) return;
  if (device.is_cpu()) {
    std::memset(data_, 0xFF, nbytes);
    return;
  }
#if SIMCLR_WITH_CUDA
  DeviceGuard guard(device.index);
  SIMCLR_CUDA_CHECK(cudaMemsetAsync(data_, 0xFF, nbytes,
                                    static_cast<cudaStream_t>(current_stream(device).handle)));
#endif
}

Storage::Storage(Device device, void* data, size_t nbytes, std::function<void(void*)> release)
    : device_(device),
      nbytes_(nbytes),
      allocator_(nullptr),
      data_(data),
      release_(std::move(release)) {}

Storage::~Storage() {
  if (allocator_) {
    allocator_->deallocate(data_);
  } else if (release_) {
    release_(data_);
  }
}

}  // namespace simclr
