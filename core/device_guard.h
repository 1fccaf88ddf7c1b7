// Makes a CUDA device current for a scope and restores the previous one: every call that
// allocates, creates a CUDA object or launches on a given device goes through one. CUDA builds
// only.
#pragma once

#include <cuda_runtime_api.h>

#include "core/library_check.h"

namespace simclr {

class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    SIMCLR_CUDA_CHECK(cudaGetDevice(&previous_));
    if (device != previous_) SIMCLR_CUDA_CHECK(cudaSetDevice(device));
  }
  ~DeviceGuard() { cudaSetDevice(previous_); }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
};

}  // namespace simclr
