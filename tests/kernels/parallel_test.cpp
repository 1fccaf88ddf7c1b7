// The CPU thread pool (kernels/cpu/parallel.h): every piece runs exactly once, ranges tile [0, n)
// with the requested grain, nested regions run, and an exception in a piece reaches the caller.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <vector>

#include "kernels/cpu/parallel.h"

using namespace simclr;

TEST_CASE("parallel_for runs every piece once", "[kernels]") {
  REQUIRE(cpu::num_threads() >= 1);
  for (const int64_t pieces : {0, 1, 2, 7, 1000}) {
    INFO(pieces << " pieces");
    std::vector<std::atomic<int>> runs(static_cast<size_t>(pieces));
    for (auto& r : runs) r = 0;
    cpu::parallel_for(pieces, [&](int64_t i) { ++runs[static_cast<size_t>(i)]; });
    for (const auto& r : runs) REQUIRE(r == 1);
  }
}

TEST_CASE("parallel_ranges tiles the range with the grain", "[kernels]") {
  const int64_t n = 1003, grain = 100;
  std::vector<int> seen(static_cast<size_t>(n), 0);
  std::atomic<int> ranges{0}, misplaced{0};
  cpu::parallel_ranges(n, grain, [&](int64_t begin, int64_t end) {
    ++ranges;  // Catch2 assertions are not thread-safe: count here, check after
    if (begin % grain != 0 || end != std::min(n, begin + grain)) ++misplaced;
    for (int64_t i = begin; i < end; ++i) ++seen[static_cast<size_t>(i)];
  });
  REQUIRE(ranges == 11);
  REQUIRE(misplaced == 0);
  for (const int s : seen) REQUIRE(s == 1);
}

TEST_CASE("parallel_for inside a piece runs the inner pieces", "[kernels]") {
  std::vector<std::atomic<int>> runs(64);
  for (auto& r : runs) r = 0;
  cpu::parallel_for(8, [&](int64_t i) {
    cpu::parallel_for(8, [&](int64_t j) { ++runs[static_cast<size_t>(i * 8 + j)]; });
  });
  for (const auto& r : runs) REQUIRE(r == 1);
}

TEST_CASE("parallel_for rethrows a piece's exception and stays usable", "[kernels]") {
  REQUIRE_THROWS_WITH(cpu::parallel_for(100,
                                        [](int64_t i) {
                                          if (i == 37) throw std::runtime_error("piece 37");
                                        }),
                      "piece 37");
  std::atomic<int> count{0};
  cpu::parallel_for(50, [&](int64_t) { ++count; });
  REQUIRE(count == 50);
}
