// The CPU thread pool (see parallel.h). Pieces are handed out through one atomic counter, so a
// thread that finishes early takes the next piece; workers sleep on a condition variable between
// parallel regions (no spinning: on a machine shared with other programs, spinning threads steal
// the cores that do the work).
#include "kernels/cpu/parallel.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"

namespace simclr::cpu {

namespace {

int threads_from_environment() {
  const char* env = std::getenv("SIMCLR_CPU_THREADS");
  if (env && *env) {
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    SIMCLR_CHECK(*end == '\0' && v >= 1 && v <= 1024,
                 "SIMCLR_CPU_THREADS: expected a thread count from 1 to 1024, got '", env, "'");
    return static_cast<int>(v);
  }
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// Set on pool threads and on a caller while it runs a region: nested calls run serially.
thread_local bool in_region = false;

class Pool {
 public:
  explicit Pool(int threads) : size_(threads) {
    openblas_set_num_threads(1);
    for (int t = 1; t < threads; ++t) workers_.emplace_back([this] { work(); });
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  int size() const { return size_; }

  void run(int64_t pieces, const std::function<void(int64_t)>& body) {
    std::unique_lock<std::mutex> region(region_, std::try_to_lock);
    if (pieces <= 1 || workers_.empty() || in_region || !region.owns_lock()) {
      for (int64_t i = 0; i < pieces; ++i) body(i);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      body_ = &body;
      pieces_ = pieces;
      next_.store(0);
      error_ = nullptr;
      busy_ = static_cast<int>(workers_.size());
      ++generation_;
    }
    wake_.notify_all();
    in_region = true;
    drain();
    in_region = false;
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return busy_ == 0; });
    body_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void work() {
    in_region = true;
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
      }
      drain();
      std::lock_guard<std::mutex> lock(mutex_);
      if (--busy_ == 0) done_.notify_one();
    }
  }

  // Runs pieces until none is left; after a piece throws, the others are skipped.
  void drain() {
    for (int64_t i = next_.fetch_add(1); i < pieces_; i = next_.fetch_add(1)) {
      try {
        (*body_)(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
        next_.store(pieces_);
      }
    }
  }

  const int size_;
  std::vector<std::thread> workers_;
  std::mutex region_;  // one parallel region at a time
  std::mutex mutex_;   // guards the fields below and the condition variables
  std::condition_variable wake_, done_;
  uint64_t generation_ = 0;
  bool stop_ = false;
  int busy_ = 0;  // workers not yet done with the current region
  const std::function<void(int64_t)>* body_ = nullptr;
  int64_t pieces_ = 0;
  std::atomic<int64_t> next_{0};
  std::exception_ptr error_;
};

Pool& pool() {
  static Pool instance(threads_from_environment());
  return instance;
}

}  // namespace

int num_threads() {
  return pool().size();
}

void parallel_for(int64_t pieces, const std::function<void(int64_t)>& body) {
  pool().run(pieces, body);
}

void parallel_ranges(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& body) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t pieces = (n + grain - 1) / grain;
  parallel_for(pieces, [&](int64_t i) { body(i * grain, std::min(n, (i + 1) * grain)); });
}

}  // namespace simclr::cpu
