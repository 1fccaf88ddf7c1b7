// The watchdog: the queue of collectives in flight, the timeout check and the polling thread.
#include "dist/watchdog.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <exception>

#include "core/error.h"

namespace simclr {

double collective_timeout_seconds() {
  const char* value = std::getenv("SIMCLR_NCCL_TIMEOUT_S");
  if (!value || !*value) return kDefaultCollectiveTimeoutS;
  char* end = nullptr;
  const double seconds = std::strtod(value, &end);
  SIMCLR_CHECK(*end == '\0' && std::isfinite(seconds) && seconds > 0,
               "SIMCLR_NCCL_TIMEOUT_S: expected a positive number of seconds, got '", value, "'");
  return seconds;
}

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Watchdog::Watchdog(std::string label, Options options, std::function<std::string()> async_error,
                   std::function<void(const std::string&)> on_failure)
    : label_(std::move(label)),
      options_(std::move(options)),
      async_error_(std::move(async_error)),
      on_failure_(std::move(on_failure)) {
  SIMCLR_CHECK(options_.timeout_s > 0 && options_.poll_interval_s > 0, "Watchdog (", label_,
               "): expected a positive timeout and poll interval, got ", options_.timeout_s,
               " s and ", options_.poll_interval_s, " s");
  SIMCLR_CHECK(options_.clock && async_error_ && on_failure_, "Watchdog (", label_,
               "): the clock, the error query and the failure handler must all be set");
}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Watchdog::start() {
  std::lock_guard<std::mutex> lock(mutex_);
  SIMCLR_CHECK(!thread_.joinable(), "Watchdog (", label_, "): started twice");
  thread_ = std::thread([this] { run(); });
}

void Watchdog::track(std::string what, std::function<bool()> done) {
  std::lock_guard<std::mutex> lock(mutex_);
  pending_.push_back({next_serial_++, std::move(what), options_.clock(), std::move(done)});
}

size_t Watchdog::in_flight() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return pending_.size();
}

std::optional<std::string> Watchdog::check() {
  std::optional<std::string> failure;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (failed_) return std::nullopt;
    failure = find_failure();
    failed_ = failure.has_value();
  }
  // Outside the lock: the handler usually ends the process.
  if (failure) on_failure_(*failure);
  return failure;
}

// Called with the mutex held. Collectives are tracked in the order they were queued, which on one
// stream is also the order in which they complete, so the front is the oldest still running.
std::optional<std::string> Watchdog::find_failure() {
  const std::string prefix = label_ + ": ";
  try {
    while (!pending_.empty() && pending_.front().done()) pending_.pop_front();
    const std::string error = async_error_();
    if (!error.empty()) return prefix + "asynchronous error: " + error;
  } catch (const std::exception& e) {
    return prefix + "polling the communicator failed: " + e.what();
  }
  if (pending_.empty()) return std::nullopt;
  const Pending& oldest = pending_.front();
  const double age = options_.clock() - oldest.started;
  if (age <= options_.timeout_s) return std::nullopt;
  return detail::concat(prefix, "collective #", oldest.serial, " (", oldest.what,
                        ") has not completed after ", age, " s, past the timeout of ",
                        options_.timeout_s,
                        " s (SIMCLR_NCCL_TIMEOUT_S); aborting the communicator");
}

void Watchdog::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  const auto interval = std::chrono::duration<double>(options_.poll_interval_s);
  while (!stopping_) {
    wake_.wait_for(lock, interval, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    check();
    lock.lock();
  }
}

}  // namespace simclr
