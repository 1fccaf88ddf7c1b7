// A caching device allocator. cudaMalloc and cudaFree are slow and synchronize the device, so
// freed blocks are kept and reused: a block freed by work on stream S is handed again only to
// allocations on S (stream order makes the reuse safe without waiting); a block that other
// streams also used (record_stream) waits in a pending list until events recorded on those
// streams have completed. When the device is out of memory, every cached block is released and
// the allocation retried once; if that fails too, the error names the bytes asked and free.
//
// With caching off (SIMCLR_NO_CUDA_CACHING=1 in the environment), every allocate and deallocate
// goes straight to the device with the exact size asked, so that compute-sanitizer sees each
// buffer's true bounds.
//
// The allocator sits on a DeviceMemory backend: cudaMalloc in production, a fake in the tests,
// so that the caching logic is tested on machines without a GPU.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/allocator.h"

namespace simclr {

class DeviceMemory {
 public:
  virtual ~DeviceMemory() = default;
  virtual std::string name() const = 0;    // "cuda:0"
  virtual void* malloc(size_t bytes) = 0;  // nullptr when out of memory
  virtual void free(void* ptr) = 0;
  virtual void mem_info(size_t* free_bytes, size_t* total_bytes) = 0;
  virtual void* record_event(void* stream) = 0;  // an event marking the stream's current work
  virtual bool event_done(void* event) = 0;
  virtual void destroy_event(void* event) = 0;
};

struct AllocatorStats {
  size_t allocated_bytes = 0;       // handed out to tensors now
  size_t peak_allocated_bytes = 0;  // largest allocated_bytes since the last reset
  size_t reserved_bytes = 0;        // obtained from the device (allocated + cached)
  size_t peak_reserved_bytes = 0;
  int64_t device_mallocs = 0;  // real cudaMalloc calls
  int64_t device_frees = 0;    // real cudaFree calls
  int64_t allocations = 0;     // allocate() calls
  int64_t cache_hits = 0;      // allocations served from the cache
};

class CachingAllocator : public Allocator {
 public:
  explicit CachingAllocator(std::unique_ptr<DeviceMemory> memory, bool caching = true);
  ~CachingAllocator() override;

  void* allocate(size_t bytes, Stream stream) override;
  void deallocate(void* ptr) override;
  // Marks that work on `stream` uses `ptr`; its block is not reused before that work finishes.
  void record_stream(void* ptr, Stream stream);
  // Returns every cached (unused) block to the device.
  void empty_cache();
  AllocatorStats stats() const;
  void reset_peak_stats();

  // The size a request is served with: a multiple of 512 bytes (2 MiB above 16 MiB).
  static size_t round_size(size_t bytes);

 private:
  struct Block {
    void* ptr = nullptr;
    size_t size = 0;
    void* stream = nullptr;            // the stream it was allocated for
    std::vector<void*> other_streams;  // streams added by record_stream
    std::vector<void*> events;         // pending events before reuse
  };

  void* take_cached(size_t size, void* stream);
  void* device_malloc(size_t size, size_t requested);
  void process_pending();
  void release_cached();

  std::unique_ptr<DeviceMemory> memory_;
  const bool caching_;
  mutable std::mutex mutex_;
  std::unordered_map<void*, Block> active_;
  std::map<void*, std::multimap<size_t, Block>> cached_;  // by stream, then size
  std::vector<Block> pending_;
  AllocatorStats stats_;
};

// The allocator of CUDA device `device` (created on first use).
CachingAllocator& cuda_caching_allocator(int device);

}  // namespace simclr
