// The watchdog of a communicator whose collectives run asynchronously on a device (NCCL): a
// collective that never completes (a peer died, a network link hangs, ranks disagree on the order)
// would otherwise leave the job waiting forever, and NCCL reports errors such as a broken
// connection only when asked (ncclCommGetAsyncError). Every collective is tracked from the moment
// it is queued until its completion probe says it is done; a thread polls the probes and the
// communicator's error every second or so and, on an error or a collective older than the
// timeout, calls the failure handler once (NCCL: abort the communicator, then abort_job).
//
// The bookkeeping takes a clock and probes as functions, so that it is tested on the CPU with a
// fake clock; only the NCCL process group wires it to CUDA events and NCCL.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace simclr {

// The timeout of one collective in seconds: SIMCLR_NCCL_TIMEOUT_S (a positive number) when set,
// otherwise kDefaultCollectiveTimeoutS. An unparsable or non-positive value throws, naming the
// variable and the value.
inline constexpr double kDefaultCollectiveTimeoutS = 600.0;
double collective_timeout_seconds();

// Seconds on the steady clock (the watchdog's default clock).
double steady_seconds();

class Watchdog {
 public:
  struct Options {
    double timeout_s = kDefaultCollectiveTimeoutS;
    double poll_interval_s = 1.0;
    std::function<double()> clock = steady_seconds;
  };
  // `label` names the communicator in messages ("NCCL rank 3 of 8 on cuda:3"). `async_error`
  // returns "" while the communicator is healthy, otherwise what went wrong; `on_failure` gets
  // the message. Both are called from the polling thread (or from check()).
  Watchdog(std::string label, Options options, std::function<std::string()> async_error,
           std::function<void(const std::string&)> on_failure);
  ~Watchdog();  // stops the polling thread
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Starts the polling thread, which runs check() every poll interval.
  void start();
  // Registers a queued collective; `done` answers, without blocking, whether it has completed.
  void track(std::string what, std::function<bool()> done);
  // One poll: forgets completed collectives, then reports (through on_failure, at most once over
  // the watchdog's life) the communicator's asynchronous error, or else the oldest collective
  // running for longer than the timeout. Returns the failure message, if any.
  std::optional<std::string> check();
  size_t in_flight() const;
  double timeout_s() const { return options_.timeout_s; }

 private:
  struct Pending {
    uint64_t serial;
    std::string what;
    double started;
    std::function<bool()> done;
  };
  std::optional<std::string> find_failure();
  void run();

  std::string label_;
  Options options_;
  std::function<std::string()> async_error_;
  std::function<void(const std::string&)> on_failure_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> pending_;
  uint64_t next_serial_ = 1;
  bool failed_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace simclr
