#include "core/cuda_device.h"

#include "core/error.h"

#if SIMCLR_WITH_CUDA
#include <cuda_runtime_api.h>

#include "core/device_guard.h"
#include "core/library_check.h"
#endif

namespace simclr {

#if SIMCLR_WITH_CUDA

namespace {
struct Probe {
  int count = 0;
  std::string reason;
};

const Probe& probe() {
  static const Probe result = [] {
    Probe p;
    cudaError_t status = cudaGetDeviceCount(&p.count);
    if (status != cudaSuccess) {
      p.count = 0;
      p.reason = detail::concat(cudaGetErrorName(status), " (", cudaGetErrorString(status), ")");
      cudaGetLastError();  // the failed probe is an answer, not a sticky error
    } else if (p.count == 0) {
      p.reason = "no CUDA device found";
    }
    return p;
  }();
  return result;
}
}  // namespace

bool built_with_cuda() {
  return true;
}
int cuda_device_count() {
  return probe().count;
}
std::string cuda_unavailable_reason() {
  return probe().reason;
}

CudaDeviceInfo cuda_device_info(int device) {
  SIMCLR_CHECK(device >= 0 && device < cuda_device_count(), "cuda_device_info: device ", device,
               " does not exist (", cuda_device_count(), " CUDA devices)");
  cudaDeviceProp prop{};
  SIMCLR_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  return {prop.name, prop.totalGlobalMem, prop.major, prop.minor, prop.multiProcessorCount};
}

void cuda_mem_info(int device, size_t* free_bytes, size_t* total_bytes) {
  DeviceGuard guard(device);
  SIMCLR_CUDA_CHECK(cudaMemGetInfo(free_bytes, total_bytes));
}

int cuda_runtime_version() {
  int v = 0;
  SIMCLR_CUDA_CHECK(cudaRuntimeGetVersion(&v));
  return v;
}

int cuda_driver_version() {
  int v = 0;
  if (cudaDriverGetVersion(&v) != cudaSuccess) return 0;
  return v;
}

#else

bool built_with_cuda() {
  return false;
}
int cuda_device_count() {
  return 0;
}
std::string cuda_unavailable_reason() {
  return "built without CUDA";
}
CudaDeviceInfo cuda_device_info(int device) {
  SIMCLR_THROW("cuda_device_info(", device, "): simclr was built without CUDA");
}
void cuda_mem_info(int device, size_t*, size_t*) {
  SIMCLR_THROW("cuda_mem_info(", device, "): simclr was built without CUDA");
}
int cuda_runtime_version() {
  return 0;
}
int cuda_driver_version() {
  return 0;
}

#endif

bool cuda_available() {
  return cuda_device_count() > 0;
}

}  // namespace simclr
