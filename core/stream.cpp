#include "core/stream.h"

#include <array>

#include "core/error.h"

#if SIMCLR_WITH_CUDA
#include <cuda_runtime_api.h>

#include "core/device_guard.h"
#include "core/library_check.h"
#endif

namespace simclr {

namespace {
constexpr int kMaxDevices = 64;
thread_local std::array<void*, kMaxDevices> current_handles{};

void check_cuda_device(Device device, const char* what) {
  SIMCLR_CHECK(device.is_cuda() && device.index >= 0 && device.index < kMaxDevices, what,
               ": expected a CUDA device, got ", device.str());
#if !SIMCLR_WITH_CUDA
  SIMCLR_THROW(what, ": simclr was built without CUDA");
#endif
}
}  // namespace

Stream current_stream(Device device) {
  if (device.is_cpu()) return Stream{device, nullptr};
  check_cuda_device(device, "current_stream");
  return Stream{device, current_handles[static_cast<size_t>(device.index)]};
}

void set_current_stream(Stream stream) {
  if (stream.device.is_cpu()) return;
  check_cuda_device(stream.device, "set_current_stream");
  current_handles[static_cast<size_t>(stream.device.index)] = stream.handle;
}

StreamGuard::StreamGuard(Stream stream) : previous_(current_stream(stream.device)) {
  set_current_stream(stream);
}
StreamGuard::~StreamGuard() {
  set_current_stream(previous_);
}

#if SIMCLR_WITH_CUDA

void synchronize(Stream stream) {
  if (stream.device.is_cpu()) return;
  SIMCLR_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream.handle)));
}

CudaStream::CudaStream(int device) {
  check_cuda_device(Device::cuda(device), "CudaStream");
  DeviceGuard guard(device);
  cudaStream_t s = nullptr;
  SIMCLR_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  stream_ = Stream{Device::cuda(device), s};
}

// Blocks freed on this stream stay cached under its handle, which CUDA may give to a later stream:
// finishing the stream's work first makes them safe for whoever gets the handle next.
CudaStream::~CudaStream() {
  cudaStreamSynchronize(static_cast<cudaStream_t>(stream_.handle));
  cudaStreamDestroy(static_cast<cudaStream_t>(stream_.handle));
}

Event::Event(int device) : device_(device) {
  check_cuda_device(Device::cuda(device), "Event");
  DeviceGuard guard(device);
  cudaEvent_t e = nullptr;
  SIMCLR_CUDA_CHECK(cudaEventCreate(&e));
  event_ = e;
}

Event::~Event() {
  cudaEventDestroy(static_cast<cudaEvent_t>(event_));
}

void Event::record(Stream stream) {
  SIMCLR_CHECK(stream.device == Device::cuda(device_),
               "Event::record: the event belongs to cuda:", device_, " but the stream to ",
               stream.device.str());
  SIMCLR_CUDA_CHECK(
      cudaEventRecord(static_cast<cudaEvent_t>(event_), static_cast<cudaStream_t>(stream.handle)));
}

void Event::wait(Stream stream) const {
  SIMCLR_CUDA_CHECK(cudaStreamWaitEvent(static_cast<cudaStream_t>(stream.handle),
                                        static_cast<cudaEvent_t>(event_), 0));
}

void Event::synchronize() const {
  SIMCLR_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(event_)));
}

bool Event::query() const {
  cudaError_t status = cudaEventQuery(static_cast<cudaEvent_t>(event_));
  if (status == cudaErrorNotReady) {
    cudaGetLastError();  // "not yet" is an answer: leave no error for the next launch check
    return false;
  }
  SIMCLR_CUDA_CHECK(status);
  return true;
}

float Event::elapsed_ms(const Event& start) const {
  float ms = 0;
  SIMCLR_CUDA_CHECK(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start.event_),
                                         static_cast<cudaEvent_t>(event_)));
  return ms;
}

#else

void synchronize(Stream stream) {
  if (!stream.device.is_cpu()) check_cuda_device(stream.device, "synchronize");
}
CudaStream::CudaStream(int device) {
  check_cuda_device(Device::cuda(device), "CudaStream");
}
CudaStream::~CudaStream() = default;
Event::Event(int device) : device_(device) {
  check_cuda_device(Device::cuda(device), "Event");
}
Event::~Event() = default;
void Event::record(Stream) {}
void Event::wait(Stream) const {}
void Event::synchronize() const {}
bool Event::query() const {
  return true;
}
float Event::elapsed_ms(const Event&) const {
  return 0;
}

#endif

}  // namespace simclr
