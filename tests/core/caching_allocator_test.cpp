// The caching logic on a fake device, so it is tested on every machine; the [cuda] twin in
// caching_allocator_cuda_test.cpp runs it on a real GPU.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <set>

#include "core/caching_allocator.h"
#include "core/error.h"

using namespace simclr;

namespace {

struct FakeState {
  size_t capacity = size_t{1} << 20;
  size_t used = 0;
  std::set<void*> live;
  std::set<void*> pending_events;  // recorded and not yet done
};

class FakeMemory : public DeviceMemory {
 public:
  explicit FakeMemory(FakeState* state) : s_(state) {}
  std::string name() const override { return "fake:0"; }
  void* malloc(size_t bytes) override {
    if (s_->used + bytes > s_->capacity) return nullptr;
    void* p = std::malloc(bytes);
    s_->used += bytes;
    s_->live.insert(p);
    sizes_[p] = bytes;
    return p;
  }
  void free(void* p) override {
    s_->used -= sizes_.at(p);
    s_->live.erase(p);
    sizes_.erase(p);
    std::free(p);
  }
  void mem_info(size_t* free_bytes, size_t* total_bytes) override {
    *free_bytes = s_->capacity - s_->used;
    *total_bytes = s_->capacity;
  }
  void* record_event(void*) override {
    void* e = new int(0);
    s_->pending_events.insert(e);
    return e;
  }
  bool event_done(void* e) override { return !s_->pending_events.count(e); }
  void destroy_event(void* e) override {
    s_->pending_events.erase(e);
    delete static_cast<int*>(e);
  }

 private:
  FakeState* s_;
  std::map<void*, size_t> sizes_;
};

Stream stream(int id) {
  return Stream{Device::cuda(0), reinterpret_cast<void*>(static_cast<intptr_t>(id))};
}

}  // namespace

TEST_CASE("caching allocator rounds sizes", "[core]") {
  REQUIRE(CachingAllocator::round_size(0) == 512);
  REQUIRE(CachingAllocator::round_size(1) == 512);
  REQUIRE(CachingAllocator::round_size(513) == 1024);
  REQUIRE(CachingAllocator::round_size((size_t{16} << 20) + 1) == (size_t{18} << 20));
}

TEST_CASE("caching allocator reuses blocks on the same stream and counts it", "[core]") {
  FakeState state;
  CachingAllocator alloc(std::make_unique<FakeMemory>(&state));
  void* a = alloc.allocate(1000, stream(1));
  AllocatorStats s = alloc.stats();
  REQUIRE(s.device_mallocs == 1);
  REQUIRE(s.allocated_bytes == 1024);
  REQUIRE(s.reserved_bytes == 1024);
  alloc.deallocate(a);
  REQUIRE(alloc.stats().allocated_bytes == 0);
  REQUIRE(alloc.stats().reserved_bytes == 1024);  // cached, not returned

  void* b = alloc.allocate(900, stream(1));
  REQUIRE(b == a);
  s = alloc.stats();
  REQUIRE(s.device_mallocs == 1);
  REQUIRE(s.cache_hits == 1);
  REQUIRE(s.allocations == 2);

  // Another stream does not take the block stream 1 may still be using.
  void* c = alloc.allocate(900, stream(2));
  alloc.deallocate(b);
  void* d = alloc.allocate(900, stream(2));
  REQUIRE(c != a);
  REQUIRE(d != a);
  REQUIRE(alloc.stats().device_mallocs == 3);
  REQUIRE(alloc.stats().peak_allocated_bytes == 2048);
  alloc.deallocate(c);
  alloc.deallocate(d);
}

TEST_CASE("caching allocator does not hand a much larger block to a small request", "[core]") {
  FakeState state;
  CachingAllocator alloc(std::make_unique<FakeMemory>(&state));
  void* big = alloc.allocate(64 * 1024, stream(1));
  alloc.deallocate(big);
  void* small = alloc.allocate(1024, stream(1));
  REQUIRE(small != big);
  alloc.deallocate(small);
}

TEST_CASE("caching allocator holds blocks used by other streams until their events pass",
          "[core]") {
  FakeState state;
  CachingAllocator alloc(std::make_unique<FakeMemory>(&state));
  void* a = alloc.allocate(4096, stream(1));
  alloc.record_stream(a, stream(2));
  alloc.deallocate(a);
  REQUIRE(state.pending_events.size() == 1);
  void* b = alloc.allocate(4096, stream(1));
  REQUIRE(b != a);               // stream 2's work may still read a
  state.pending_events.clear();  // stream 2 finishes
  alloc.deallocate(b);
  void* c = alloc.allocate(4096, stream(1));
  void* d = alloc.allocate(4096, stream(1));
  REQUIRE(((c == a && d == b) || (c == b && d == a)));
  alloc.deallocate(c);
  alloc.deallocate(d);
  REQUIRE_THROWS_WITH(alloc.record_stream(reinterpret_cast<void*>(8), stream(1)),
                      Catch::Contains("not an active allocation"));
}

TEST_CASE("caching allocator empties its cache on demand and peaks reset", "[core]") {
  FakeState state;
  CachingAllocator alloc(std::make_unique<FakeMemory>(&state));
  void* a = alloc.allocate(10000, stream(1));
  void* b = alloc.allocate(20000, stream(1));
  alloc.deallocate(a);
  alloc.deallocate(b);
  REQUIRE(state.live.size() == 2);
  alloc.empty_cache();
  REQUIRE(state.live.empty());
  AllocatorStats s = alloc.stats();
  REQUIRE(s.reserved_bytes == 0);
  REQUIRE(s.device_frees == 2);
  REQUIRE(s.peak_allocated_bytes > 0);
  alloc.reset_peak_stats();
  REQUIRE(alloc.stats().peak_allocated_bytes == 0);
}

TEST_CASE("out of memory frees the cache, retries, then names bytes asked and free", "[core]") {
  FakeState state;
  state.capacity = 1 << 16;
  CachingAllocator alloc(std::make_unique<FakeMemory>(&state));
  void* a = alloc.allocate(40000, stream(1));
  alloc.deallocate(a);  // cached: 40448 of the 65536 bytes
  // 30000 bytes fit only once the cached block is returned to the device.
  void* b = alloc.allocate(30000, stream(2));
  REQUIRE(alloc.stats().device_frees == 1);
  REQUIRE_THROWS_WITH(alloc.allocate(50000, stream(1)),
                      Catch::Contains("out of memory on fake:0") &&
                          Catch::Contains("tried to allocate 48.83 KiB (50000 bytes)") &&
                          Catch::Contains("(35328 bytes) free of 64.00 KiB"));
  alloc.deallocate(b);
}

TEST_CASE("a pointer the allocator does not own is rejected", "[core]") {
  FakeState state;
  CachingAllocator alloc(std::make_unique<FakeMemory>(&state));
  int x = 0;
  REQUIRE_THROWS_WITH(alloc.deallocate(&x),
                      Catch::Contains("was not allocated by the allocator of fake:0"));
}

TEST_CASE("without caching every free goes back to the device", "[core]") {
  FakeState state;
  CachingAllocator alloc(std::make_unique<FakeMemory>(&state), false);
  void* a = alloc.allocate(1000, stream(1));
  REQUIRE(alloc.stats().allocated_bytes == 1000);
  alloc.deallocate(a);
  REQUIRE(state.live.empty());
  REQUIRE(alloc.stats().reserved_bytes == 0);
}
