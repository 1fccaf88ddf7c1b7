#include "core/caching_allocator.h"

#include <cstdio>

#include "core/error.h"

namespace simclr {

namespace {
constexpr size_t kSmallRound = 512;
constexpr size_t kLargeRound = size_t{2} << 20;
constexpr size_t kLargeThreshold = size_t{16} << 20;

std::string human_bytes(size_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 5) {
    value /= 1024.0;
    ++unit;
  }
  char text[64];
  std::snprintf(text, sizeof text, "%.2f %s", value, units[unit]);
  return text;
}
}  // namespace

CachingAllocator::CachingAllocator(std::unique_ptr<DeviceMemory> memory, bool caching)
    : memory_(std::move(memory)), caching_(caching) {}

CachingAllocator::~CachingAllocator() {
  // Blocks still active belong to tensors that outlive the allocator (process exit): leave them.
  std::lock_guard<std::mutex> lock(mutex_);
  for (Block& b : pending_) {
    for (void* e : b.events) memory_->destroy_event(e);
    b.events.clear();
    cached_[b.stream].emplace(b.size, b);
  }
  pending_.clear();
  release_cached();
}

size_t CachingAllocator::round_size(size_t bytes) {
  if (bytes == 0) bytes = 1;
  const size_t unit = bytes > kLargeThreshold ? kLargeRound : kSmallRound;
  return (bytes + unit - 1) / unit * unit;
}

void* CachingAllocator::allocate(size_t bytes, Stream stream) {
  const size_t size = caching_ ? round_size(bytes) : std::max<size_t>(bytes, 1);
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.allocations;
  process_pending();
  void* ptr = take_cached(size, stream.handle);
  if (ptr) {
    ++stats_.cache_hits;
  } else {
    ptr = device_malloc(size, bytes);
  }
  Block& block = active_[ptr];
  block.ptr = ptr;
  block.size = size;
  block.stream = stream.handle;
  stats_.allocated_bytes += size;
  stats_.peak_allocated_bytes = std::max(stats_.peak_allocated_bytes, stats_.allocated_bytes);
  return ptr;
}

// Best fit among the blocks cached for this stream, refusing blocks that would waste more than
// a quarter of the request (they stay for a better-sized request).
void* CachingAllocator::take_cached(size_t size, void* stream) {
  auto pool = cached_.find(stream);
  if (pool == cached_.end()) return nullptr;
  auto it = pool->second.lower_bound(size);
  if (it == pool->second.end() || it->first > size + size / 4) return nullptr;
  void* ptr = it->second.ptr;
  pool->second.erase(it);
  return ptr;
}

void* CachingAllocator::device_malloc(size_t size, size_t requested) {
  void* ptr = memory_->malloc(size);
  if (!ptr) {
    // Out of memory: give the cache back to the device and try once more.
    release_cached();
    ptr = memory_->malloc(size);
  }
  if (!ptr) {
    size_t free_bytes = 0, total_bytes = 0;
    memory_->mem_info(&free_bytes, &total_bytes);
    SIMCLR_THROW("CUDA out of memory on ", memory_->name(), ": tried to allocate ",
                 human_bytes(requested), " (", requested, " bytes); ", human_bytes(free_bytes),
                 " (", free_bytes, " bytes) free of ", human_bytes(total_bytes),
                 "; this process holds ", human_bytes(stats_.allocated_bytes), " in tensors");
  }
  ++stats_.device_mallocs;
  stats_.reserved_bytes += size;
  stats_.peak_reserved_bytes = std::max(stats_.peak_reserved_bytes, stats_.reserved_bytes);
  return ptr;
}

void CachingAllocator::deallocate(void* ptr) {
  if (!ptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = active_.find(ptr);
  SIMCLR_CHECK(it != active_.end(), "CachingAllocator::deallocate: pointer ", ptr,
               " was not allocated by the allocator of ", memory_->name());
  Block block = std::move(it->second);
  active_.erase(it);
  stats_.allocated_bytes -= block.size;
  if (!caching_) {
    // cudaFree waits for the device, so work on other streams has finished too.
    memory_->free(block.ptr);
    ++stats_.device_frees;
    stats_.reserved_bytes -= block.size;
    return;
  }
  if (block.other_streams.empty()) {
    cached_[block.stream].emplace(block.size, std::move(block));
    return;
  }
  for (void* s : block.other_streams) block.events.push_back(memory_->record_event(s));
  block.other_streams.clear();
  pending_.push_back(std::move(block));
}

void CachingAllocator::record_stream(void* ptr, Stream stream) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = active_.find(ptr);
  SIMCLR_CHECK(it != active_.end(), "CachingAllocator::record_stream: pointer ", ptr,
               " is not an active allocation of ", memory_->name());
  if (stream.handle == it->second.stream) return;
  for (void* s : it->second.other_streams)
    if (s == stream.handle) return;
  it->second.other_streams.push_back(stream.handle);
}

void CachingAllocator::process_pending() {
  for (size_t i = 0; i < pending_.size();) {
    Block& b = pending_[i];
    bool done = true;
    for (void* e : b.events) done = done && memory_->event_done(e);
    if (!done) {
      ++i;
      continue;
    }
    for (void* e : b.events) memory_->destroy_event(e);
    b.events.clear();
    cached_[b.stream].emplace(b.size, std::move(b));
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

void CachingAllocator::release_cached() {
  for (auto& [stream, pool] : cached_) {
    for (auto& [size, block] : pool) {
      memory_->free(block.ptr);
      ++stats_.device_frees;
      stats_.reserved_bytes -= size;
    }
  }
  cached_.clear();
}

void CachingAllocator::empty_cache() {
  std::lock_guard<std::mutex> lock(mutex_);
  process_pending();
  release_cached();
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void CachingAllocator::reset_peak_stats() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peak_allocated_bytes = stats_.allocated_bytes;
  stats_.peak_reserved_bytes = stats_.reserved_bytes;
}

}  // namespace simclr
