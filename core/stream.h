// Streams and events. Stream is a small value (device + handle) that kernels take by value on both
// backends; on the CPU it carries no handle. CudaStream and Event own CUDA objects (RAII).
#pragma once

#include "core/device.h"

namespace simclr {

struct Stream {
  Device device = Device::cpu();
  void* handle = nullptr;  // cudaStream_t; nullptr is the CUDA default stream
  bool operator==(const Stream&) const = default;
};

// The stream that ops on `device` enqueue on from this thread (the default stream unless set).
Stream current_stream(Device device);
void set_current_stream(Stream stream);
// Waits until all work queued on the stream has finished (no-op for CPU streams).
void synchronize(Stream stream);

// Sets the current stream for a scope and restores the previous one.
class StreamGuard {
 public:
  explicit StreamGuard(Stream stream);
  ~StreamGuard();
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  Stream previous_;
};

// An owned, non-blocking CUDA stream.
class CudaStream {
 public:
  explicit CudaStream(int device = 0);
  ~CudaStream();
  CudaStream(const CudaStream&) = delete;
  CudaStream& operator=(const CudaStream&) = delete;
  Stream get() const { return stream_; }

 private:
  Stream stream_;
};

// An owned CUDA event (timing enabled).
class Event {
 public:
  explicit Event(int device = 0);
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void record(Stream stream);
  void wait(Stream stream) const;  // makes `stream` wait for this event, without blocking the host
  void synchronize() const;
  bool query() const;  // true once the recorded work has finished
  float elapsed_ms(const Event& start) const;
  void* handle() const { return event_; }

 private:
  int device_;
  void* event_ = nullptr;
};

}  // namespace simclr
