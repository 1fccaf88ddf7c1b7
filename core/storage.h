// Storage: one allocation of bytes on one device, shared by every tensor that views it.
#pragma once

#include <cstddef>
#include <functional>

#include "core/allocator.h"
#include "core/device.h"

namespace simclr {

class Storage {
 public:
  // Tests turn this on so that every new allocation is filled with 0xFF bytes (NaN for floating
  // types): an op that leaves part of its output unwritten then fails its comparison.
  static void set_poison(bool poison);
  static bool poison();

  // Allocates from the device's allocator, for use on the device's current stream.
  Storage(Device device, size_t nbytes);
  // Wraps memory that someone else owns (a mapped file, a pinned buffer); `release` is called
  // with `data` when the last tensor viewing it goes away.
  Storage(Device device, void* data, size_t nbytes, std::function<void(void*)> release);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  Device device_;
  size_t nbytes_;
  Allocator* allocator_;
  void* data_;
  std::function<void(void*)> release_;
};

}  // namespace simclr
