// What CUDA devices this process can use. A machine without a driver (cudaErrorInsufficientDriver)
// or without a GPU (cudaErrorNoDevice) has zero devices: that is "no GPU", never a crash.
#pragma once

#include <cstddef>
#include <string>

namespace simclr {

bool built_with_cuda();
int cuda_device_count();
bool cuda_available();
// Why cuda_device_count() is zero: "built without CUDA", "no CUDA driver ...", ...; empty if not.
std::string cuda_unavailable_reason();

struct CudaDeviceInfo {
  std::string name;
  size_t total_memory = 0;
  int major = 0, minor = 0;  // compute capability
  int multiprocessors = 0;
};
CudaDeviceInfo cuda_device_info(int device);
void cuda_mem_info(int device, size_t* free_bytes, size_t* total_bytes);
int cuda_runtime_version();  // e.g. 13000
int cuda_driver_version();   // 0 without a driver

}  // namespace simclr
