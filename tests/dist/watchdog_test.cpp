// The watchdog's bookkeeping on a fake clock: collectives past the timeout are reported once, with
// the collective and the timeout named; completed ones never are; the communicator's own error
// comes first; the timeout is read from SIMCLR_NCCL_TIMEOUT_S.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "dist/watchdog.h"

namespace simclr {
namespace {

struct Fake {
  double now = 1000.0;
  std::string error;
  std::vector<std::string> failures;

  std::unique_ptr<Watchdog> make(double timeout_s) {
    Watchdog::Options options;
    options.timeout_s = timeout_s;
    options.clock = [this] { return now; };
    return std::make_unique<Watchdog>(
        "NCCL rank 1 of 2 on cuda:1", options, [this] { return error; },
        [this](const std::string& message) { failures.push_back(message); });
  }
};

TEST_CASE("watchdog: a collective past the timeout is reported once, naming it", "[watchdog]") {
  Fake fake;
  auto dog = fake.make(30.0);
  bool first_done = false, second_done = false;
  dog->track("all_reduce_sum of 4096 f32 values", [&] { return first_done; });
  fake.now += 10;
  dog->track("all_gather of 77 bf16 values", [&] { return second_done; });
  CHECK(dog->in_flight() == 2);

  fake.now += 20;  // the first is exactly 30 s old: not yet past the timeout
  CHECK_FALSE(dog->check());
  CHECK(fake.failures.empty());
  // The first completes; the second is then 30.5 s old.
  first_done = true;
  fake.now += 10.5;
  const std::optional<std::string> failure = dog->check();
  REQUIRE(failure);
  CHECK(dog->in_flight() == 1);
  REQUIRE(fake.failures.size() == 1);
  const std::string& message = fake.failures[0];
  CHECK(message == *failure);
  CHECK_THAT(message, Catch::StartsWith("NCCL rank 1 of 2 on cuda:1: collective #2 "));
  CHECK_THAT(message, Catch::Contains("all_gather of 77 bf16 values"));
  CHECK_THAT(message, Catch::Contains("after 30.5 s"));
  CHECK_THAT(message, Catch::Contains("timeout of 30 s (SIMCLR_NCCL_TIMEOUT_S)"));
  // Reported once over the watchdog's life.
  fake.now += 100;
  CHECK_FALSE(dog->check());
  CHECK(fake.failures.size() == 1);
}

TEST_CASE("watchdog: completed collectives are never reported, however old", "[watchdog]") {
  Fake fake;
  auto dog = fake.make(5.0);
  std::vector<int> polls(3, 0);
  for (int i = 0; i < 3; ++i)
    dog->track("broadcast_", [&polls, i] {
      ++polls[static_cast<size_t>(i)];
      return true;
    });
  fake.now += 1e6;
  CHECK_FALSE(dog->check());
  CHECK(dog->in_flight() == 0);
  CHECK(polls == std::vector<int>{1, 1, 1});  // forgotten once done
  CHECK_FALSE(dog->check());
  CHECK(fake.failures.empty());
}

TEST_CASE("watchdog: the communicator's asynchronous error is reported first", "[watchdog]") {
  Fake fake;
  auto dog = fake.make(5.0);
  dog->track("all_reduce_sum", [] { return false; });
  fake.now += 6;
  fake.error = "remote process exited or there was a network error";
  REQUIRE(dog->check());
  REQUIRE(fake.failures.size() == 1);
  CHECK(fake.failures[0] ==
        "NCCL rank 1 of 2 on cuda:1: asynchronous error: remote process exited or there was a "
        "network error");
}

TEST_CASE("watchdog: a probe that throws is a failure", "[watchdog]") {
  Fake fake;
  auto dog = fake.make(5.0);
  dog->track("all_gather", []() -> bool { SIMCLR_THROW("cudaEventQuery: an illegal address"); });
  REQUIRE(dog->check());
  REQUIRE(fake.failures.size() == 1);
  CHECK_THAT(fake.failures[0], Catch::Contains("polling the communicator failed") &&
                                   Catch::Contains("an illegal address"));
}

TEST_CASE("watchdog: the polling thread calls the failure handler", "[watchdog]") {
  std::mutex mutex;
  std::condition_variable called;
  std::string seen;
  Watchdog::Options options;
  options.timeout_s = 1.0;
  options.poll_interval_s = 0.001;
  std::atomic<double> now{0.0};
  options.clock = [&now] { return now.load(); };
  Watchdog dog(
      "NCCL rank 0 of 1 on cuda:0", options, [] { return std::string(); },
      [&](const std::string& message) {
        std::lock_guard<std::mutex> lock(mutex);
        seen = message;
        called.notify_all();
      });
  dog.track("all_reduce_sum", [] { return false; });
  dog.start();
  now = 2.0;
  std::unique_lock<std::mutex> lock(mutex);
  // A generous bound: the thread polls every millisecond.
  called.wait_for(lock, std::chrono::seconds(30), [&] { return !seen.empty(); });
  CHECK_THAT(seen, Catch::Contains("collective #1 (all_reduce_sum)"));
}

TEST_CASE("watchdog: options are checked", "[watchdog]") {
  Watchdog::Options options;
  options.timeout_s = 0;
  CHECK_THROWS_WITH(Watchdog(
                        "x", options, [] { return std::string(); }, [](const std::string&) {}),
                    Catch::Contains("positive timeout"));
}

// Sets an environment variable for a scope, restoring the previous state.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) previous_ = old;
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (previous_)
      setenv(name_, previous_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> previous_;
};

TEST_CASE("watchdog: the timeout comes from SIMCLR_NCCL_TIMEOUT_S", "[watchdog]") {
  const char* name = "SIMCLR_NCCL_TIMEOUT_S";
  {
    ScopedEnv unset(name, nullptr);
    CHECK(collective_timeout_seconds() == kDefaultCollectiveTimeoutS);
    CHECK(kDefaultCollectiveTimeoutS == 600.0);
  }
  {
    ScopedEnv set(name, "42.5");
    CHECK(collective_timeout_seconds() == 42.5);
  }
  for (const char* bad : {"ten", "-3", "0", "5s", "inf"}) {
    ScopedEnv set(name, bad);
    CHECK_THROWS_WITH(collective_timeout_seconds(),
                      Catch::Contains("SIMCLR_NCCL_TIMEOUT_S") &&
                          Catch::Contains(std::string("got '") + bad + "'"));
  }
}

}  // namespace
}  // namespace simclr
