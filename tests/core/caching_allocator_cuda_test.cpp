// [cuda] tests of the real CUDA caching allocator (cuda_caching_allocator(0)) and of the stream and
// event wrappers. Other tests in this process may hold or cache device memory, so the checks use
// differences of stats() snapshots and block sizes no other test asks for.
//
// scripts/gpu-check runs these executables under compute-sanitizer with SIMCLR_NO_CUDA_CACHING=1:
// then every free goes straight to cudaFree, so the tests of caching behavior check the uncached
// behavior instead. Tagged [no-sanitizer], and left out of that run (they run in the plain one):
// the out-of-memory test (the sanitizer reports the failed cudaMalloc as an API error) and the
// tests that hold a stream at a host function (cudaFree waits for the whole device, and the
// not-ready queries could count as API errors).
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>

#include "core/caching_allocator.h"
#include "core/stream.h"
#include "cuda_test_util.h"
#include "kernels/ops.h"

#if SIMCLR_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace {

using namespace simclr;

using test::kCuda;

bool caching_off() {
  const char* v = std::getenv("SIMCLR_NO_CUDA_CACHING");
  return v && std::string(v) == "1";
}

CachingAllocator& allocator() {
  return cuda_caching_allocator(0);
}

Stream main_stream() {
  return current_stream(kCuda);
}

}  // namespace

TEST_CASE("CUDA caching allocator reuses a freed block on the same stream",
          "[cuda][core][allocator]") {
  CachingAllocator& alloc = allocator();
  const size_t size = 512 * 37;  // a size of its own: exact after rounding
  REQUIRE(CachingAllocator::round_size(size) == size);
  void* p = alloc.allocate(size, main_stream());
  REQUIRE(p != nullptr);
  const AllocatorStats s1 = alloc.stats();
  alloc.deallocate(p);
  void* q = alloc.allocate(size, main_stream());
  const AllocatorStats s2 = alloc.stats();
  REQUIRE(s2.allocations == s1.allocations + 1);
  if (caching_off()) {
    REQUIRE(s2.device_mallocs == s1.device_mallocs + 1);
    REQUIRE(s2.device_frees == s1.device_frees + 1);
    REQUIRE(s2.cache_hits == s1.cache_hits);
  } else {
    REQUIRE(q == p);
    REQUIRE(s2.device_mallocs == s1.device_mallocs);
    REQUIRE(s2.device_frees == s1.device_frees);
    REQUIRE(s2.cache_hits == s1.cache_hits + 1);
  }
  alloc.deallocate(q);
}

TEST_CASE("CUDA caching allocator tracks allocated and peak bytes", "[cuda][core][allocator]") {
  CachingAllocator& alloc = allocator();
  const size_t size = 512 * 43;
  alloc.reset_peak_stats();
  const AllocatorStats s0 = alloc.stats();
  REQUIRE(s0.peak_allocated_bytes == s0.allocated_bytes);
  void* p = alloc.allocate(size, main_stream());
  void* q = alloc.allocate(size, main_stream());
  const AllocatorStats s1 = alloc.stats();
  REQUIRE(p != q);
  REQUIRE(s1.allocated_bytes == s0.allocated_bytes + 2 * size);
  REQUIRE(s1.peak_allocated_bytes == s0.allocated_bytes + 2 * size);
  REQUIRE(s1.reserved_bytes >= s1.allocated_bytes);
  alloc.deallocate(p);
  const AllocatorStats s2 = alloc.stats();
  REQUIRE(s2.allocated_bytes == s0.allocated_bytes + size);
  REQUIRE(s2.peak_allocated_bytes == s1.peak_allocated_bytes);
  alloc.deallocate(q);
  const AllocatorStats s3 = alloc.stats();
  REQUIRE(s3.allocated_bytes == s0.allocated_bytes);
  REQUIRE(s3.peak_allocated_bytes == s1.peak_allocated_bytes);
  alloc.reset_peak_stats();
  REQUIRE(alloc.stats().peak_allocated_bytes == s0.allocated_bytes);

  // Tensors count too: a [1000] f32 tensor holds round_size(4000) bytes while it lives.
  const size_t before = alloc.stats().allocated_bytes;
  {
    const Tensor t = zeros({1000}, DType::f32, kCuda);
    REQUIRE(alloc.stats().allocated_bytes ==
            before + (caching_off() ? size_t{4000} : CachingAllocator::round_size(4000)));
  }
  REQUIRE(alloc.stats().allocated_bytes == before);
}

TEST_CASE("CUDA caching allocator empty_cache returns cached blocks", "[cuda][core][allocator]") {
  CachingAllocator& alloc = allocator();
  const size_t size = 512 * 47;
  const AllocatorStats s0 = alloc.stats();
  void* p = alloc.allocate(size, main_stream());
  alloc.deallocate(p);
  const AllocatorStats s1 = alloc.stats();
  REQUIRE(s1.allocated_bytes == s0.allocated_bytes);
  if (caching_off()) {
    REQUIRE(s1.reserved_bytes == s0.reserved_bytes);
  } else {
    REQUIRE(s1.reserved_bytes >= size);
  }
  alloc.empty_cache();
  const AllocatorStats s2 = alloc.stats();
  if (!caching_off()) {
    REQUIRE(s2.reserved_bytes <= s1.reserved_bytes - size);
    REQUIRE(s2.device_frees >= s1.device_frees + 1);
  }
  REQUIRE(s2.allocated_bytes == s1.allocated_bytes);
  // Nothing cached is left, only what is in use (or waiting on another stream).
  REQUIRE(s2.reserved_bytes >= s2.allocated_bytes);
  // The next allocation of that size goes to the device.
  void* q = alloc.allocate(size, main_stream());
  REQUIRE(alloc.stats().device_mallocs == s2.device_mallocs + 1);
  alloc.deallocate(q);
}

TEST_CASE("CUDA caching allocator keeps a freed block from other streams",
          "[cuda][core][allocator]") {
  CachingAllocator& alloc = allocator();
  const size_t size = 512 * 53;
  CudaStream side;
  REQUIRE(!(side.get() == main_stream()));
  void* p = alloc.allocate(size, main_stream());
  alloc.deallocate(p);
  const AllocatorStats s0 = alloc.stats();
  void* q = alloc.allocate(size, side.get());
  if (!caching_off()) {
    REQUIRE(q != p);  // p waits in the main stream's cache
    REQUIRE(alloc.stats().cache_hits == s0.cache_hits);
    // ... and the main stream gets it back.
    void* r = alloc.allocate(size, main_stream());
    REQUIRE(r == p);
    alloc.deallocate(r);
  }
  alloc.deallocate(q);
  synchronize(side.get());
  // The block cached for `side` must not outlive the stream's handle in the cache.
  alloc.empty_cache();
}

#if SIMCLR_WITH_CUDA
namespace {
// Holds a stream at a host function until opened, so that work "on" it is pending for as long as
// the test needs. Opened (and the stream drained) on destruction, also when a REQUIRE fails.
class StreamGate {
 public:
  explicit StreamGate(Stream stream) : stream_(stream) {}
  ~StreamGate() {
    open();
    cudaStreamSynchronize(static_cast<cudaStream_t>(stream_.handle));
  }
  void close() {
    REQUIRE(cudaLaunchHostFunc(static_cast<cudaStream_t>(stream_.handle), &StreamGate::wait,
                               this) == cudaSuccess);
  }
  void open() { open_.store(true); }

 private:
  static void CUDART_CB wait(void* self) {
    auto* gate = static_cast<StreamGate*>(self);
    while (!gate->open_.load()) std::this_thread::yield();
  }
  Stream stream_;
  std::atomic<bool> open_{false};
};
}  // namespace

TEST_CASE("CUDA caching allocator holds a record_stream block until that stream is done",
          "[cuda][core][allocator][no-sanitizer]") {
  CachingAllocator& alloc = allocator();
  const size_t size = 512 * 59;
  CudaStream side;
  StreamGate gate(side.get());
  const Stream main = main_stream();
  // A spare block of the same size serves the allocation made while p is held, without cudaMalloc
  // (which could wait for the held stream).
  void* spare = alloc.allocate(size, main);
  void* p = alloc.allocate(size, main);
  alloc.deallocate(spare);
  alloc.record_stream(p, side.get());
  alloc.record_stream(p, side.get());  // twice is once
  alloc.record_stream(p, main);        // its own stream is no extra use
  gate.close();
  alloc.deallocate(p);  // waits for an event on `side`, which cannot pass yet
  const AllocatorStats s0 = alloc.stats();
  void* q = alloc.allocate(size, main);
  const AllocatorStats s1 = alloc.stats();
  REQUIRE(q != p);
  REQUIRE(q == spare);
  REQUIRE(s1.cache_hits == s0.cache_hits + 1);
  REQUIRE(s1.device_mallocs == s0.device_mallocs);
  gate.open();
  synchronize(side.get());
  void* r = alloc.allocate(size, main);  // the event has passed: p is back in main's cache
  REQUIRE(r == p);
  REQUIRE(alloc.stats().device_mallocs == s1.device_mallocs);
  alloc.deallocate(q);
  alloc.deallocate(r);
  // Finding the event pending (cudaErrorNotReady) must leave no error behind for the next launch.
  const Tensor t = full({1000}, 3.0, DType::f32, kCuda);
  for (double v : test::values(t)) REQUIRE(v == 3.0);
}

TEST_CASE("CUDA event query is false while its work is pending",
          "[cuda][core][stream][no-sanitizer]") {
  CudaStream side;
  StreamGate gate(side.get());
  Event e;
  gate.close();
  e.record(side.get());
  REQUIRE(!e.query());
  REQUIRE(!e.query());
  gate.open();
  e.synchronize();
  REQUIRE(e.query());
  // The not-ready answers must leave no error behind for the next launch.
  const Tensor t = full({1000}, 4.0, DType::f32, kCuda);
  for (double v : test::values(t)) REQUIRE(v == 4.0);
}
#endif

TEST_CASE("CUDA caching allocator reports an impossible allocation clearly",
          "[cuda][core][allocator][no-sanitizer]") {
  CachingAllocator& alloc = allocator();
  const AllocatorStats s0 = alloc.stats();
  const size_t huge = size_t{1} << 50;  // 1 PiB
  REQUIRE_THROWS_AS(alloc.allocate(huge, main_stream()), simclr::Error);
  REQUIRE_THROWS_WITH(alloc.allocate(huge, main_stream()),
                      Catch::Contains("out of memory") && Catch::Contains("tried to allocate") &&
                          Catch::Contains("free") && Catch::Contains("cuda:0"));
  const AllocatorStats s1 = alloc.stats();
  REQUIRE(s1.allocated_bytes == s0.allocated_bytes);
  REQUIRE(s1.device_mallocs == s0.device_mallocs);
  // The allocator (and the device) still work afterwards.
  const Tensor t = full({1000}, 2.0, DType::f32, kCuda);
  for (double v : test::values(t)) REQUIRE(v == 2.0);
}

TEST_CASE("CUDA events time work recorded on a CUDA stream", "[cuda][core][stream]") {
  CudaStream s;
  Event start, stop;
  start.record(s.get());
  {
    StreamGuard guard(s.get());
    const Tensor a = full({1 << 20}, 1.5, DType::f32, kCuda);
    const Tensor b = mul(a, 2.0);
    stop.record(s.get());
    stop.synchronize();
    REQUIRE(stop.query());
    REQUIRE(start.query());
    REQUIRE(stop.elapsed_ms(start) >= 0.0f);
    const std::vector<double> v = test::values(b);
    REQUIRE(v.front() == 3.0);
    REQUIRE(v.back() == 3.0);
  }
  // The main stream waits for the event without blocking the host.
  stop.wait(main_stream());
  synchronize(main_stream());
  synchronize(s.get());
  REQUIRE(stop.query());
  // Recording again moves the event to the stream's newest work.
  start.record(s.get());
  start.synchronize();
  REQUIRE(start.query());
  REQUIRE(start.elapsed_ms(stop) >= 0.0f);
}

TEST_CASE("StreamGuard sets and restores the current CUDA stream", "[cuda][core][stream]") {
  const Stream before = current_stream(kCuda);
  CudaStream s1, s2;
  REQUIRE(s1.get().device == kCuda);
  REQUIRE(s1.get().handle != nullptr);
  REQUIRE(!(s1.get() == s2.get()));
  {
    StreamGuard g1(s1.get());
    REQUIRE(current_stream(kCuda) == s1.get());
    {
      StreamGuard g2(s2.get());
      REQUIRE(current_stream(kCuda) == s2.get());
    }
    REQUIRE(current_stream(kCuda) == s1.get());
    // The CPU has no streams to set.
    REQUIRE(current_stream(Device::cpu()).handle == nullptr);
    // Ops run on the guarded stream and read back correctly.
    const Tensor t = full({4097}, 2.5, DType::f32, kCuda);
    for (double v : test::values(t)) REQUIRE(v == 2.5);
  }
  REQUIRE(current_stream(kCuda) == before);
  synchronize(s1.get());
  synchronize(s2.get());
}
