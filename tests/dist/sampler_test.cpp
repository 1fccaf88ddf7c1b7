// DistributedSampler (every index once per epoch across the ranks, padding and drop_last, the
// same order on every rank) and check_same_config (the differing key is named).
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "dist/sampler.h"
#include "dist_test_util.h"

namespace simclr {
namespace {

using test::test_group;

// How many times each index of [0, n) is visited by the W samplers of one epoch.
std::vector<int> visits(int64_t n, int world, uint64_t seed, int64_t epoch, bool shuffle,
                        bool drop_last) {
  std::vector<int> count(static_cast<size_t>(n), 0);
  for (int r = 0; r < world; ++r) {
    DistributedSampler s(n, world, r, seed, shuffle, drop_last);
    s.set_epoch(epoch);
    const std::vector<int64_t> idx = s.indices();
    CHECK(static_cast<int64_t>(idx.size()) == s.num_samples());
    for (int64_t i : idx) {
      REQUIRE(i >= 0);
      REQUIRE(i < n);
      ++count[static_cast<size_t>(i)];
    }
  }
  return count;
}

TEST_CASE("DistributedSampler: every index exactly once per epoch when W divides n") {
  for (int world : {1, 2, 3, 4, 8}) {
    for (int64_t epoch : {0, 1, 5}) {
      const std::vector<int> count = visits(24, world, 42, epoch, true, false);
      CHECK(std::all_of(count.begin(), count.end(), [](int c) { return c == 1; }));
    }
  }
}

TEST_CASE("DistributedSampler: padding repeats the permutation's first indices") {
  const int64_t n = 10;
  const int world = 4;  // total 12: two indices twice
  DistributedSampler s0(n, world, 0, 7);
  CHECK(s0.total_size() == 12);
  CHECK(s0.num_samples() == 3);
  const std::vector<int> count = visits(n, world, 7, 0, true, false);
  const std::vector<int64_t> perm = s0.permutation();
  for (int64_t i = 0; i < n; ++i) {
    const auto pos = std::find(perm.begin(), perm.end(), i) - perm.begin();
    CHECK(count[static_cast<size_t>(i)] == (pos < 2 ? 2 : 1));
  }
  // A data set smaller than the world wraps around.
  const std::vector<int> tiny = visits(3, 8, 1, 0, true, false);
  int total = 0;
  for (int c : tiny) {
    CHECK(c >= 2);
    total += c;
  }
  CHECK(total == 8);
}

TEST_CASE("DistributedSampler: drop_last drops the permutation's tail") {
  const std::vector<int> count = visits(10, 4, 7, 3, true, true);
  int total = 0;
  for (int c : count) {
    CHECK(c <= 1);
    total += c;
  }
  CHECK(total == 8);
  CHECK(DistributedSampler(10, 4, 0, 7, true, true).num_samples() == 2);
  CHECK_THROWS_WITH(DistributedSampler(3, 4, 0, 7, true, true),
                    Catch::Contains("drop_last leaves nothing"));
}

TEST_CASE("DistributedSampler: the order depends on seed and epoch only, and is a permutation") {
  DistributedSampler a(1000, 2, 0, 5), b(1000, 2, 1, 5), c(1000, 2, 0, 6);
  CHECK(a.permutation() == b.permutation());  // every rank draws the same order
  CHECK(a.permutation() != c.permutation());  // another seed, another order
  std::vector<int64_t> e0 = a.permutation();
  a.set_epoch(1);
  CHECK(a.permutation() != e0);  // another epoch, another order
  a.set_epoch(0);
  CHECK(a.permutation() == e0);
  std::sort(e0.begin(), e0.end());
  for (int64_t i = 0; i < 1000; ++i) CHECK(e0[static_cast<size_t>(i)] == i);
  // Rank r takes positions r, r + W, ...
  const std::vector<int64_t> perm = b.permutation(), mine = b.indices();
  for (size_t k = 0; k < mine.size(); ++k) CHECK(mine[k] == perm[2 * k + 1]);
  // No shuffle: the identity, sharded.
  CHECK(DistributedSampler(7, 3, 1, 0, false).indices() == std::vector<int64_t>{1, 4, 0});
}

TEST_CASE("DistributedSampler: argument errors") {
  CHECK_THROWS_WITH(DistributedSampler(10, 0, 0, 1), Catch::Contains("world_size"));
  CHECK_THROWS_WITH(DistributedSampler(10, 2, 2, 1), Catch::Contains("rank 2"));
  CHECK_THROWS_WITH(DistributedSampler(0, 2, 0, 1), Catch::Contains("non-empty"));
}

TEST_CASE("DistributedSampler: the real ranks visit every index exactly once", "[mpi]") {
  ProcessGroup& g = test_group();
  const int64_t per_rank = 37;  // odd
  const int64_t n = per_rank * g.world_size();
  for (int64_t epoch : {0, 1, 2}) {
    DistributedSampler s(n, g.world_size(), g.rank(), 2024);
    s.set_epoch(epoch);
    const std::vector<int64_t> mine = s.indices();
    CHECK(static_cast<int64_t>(mine.size()) == per_rank);
    const std::vector<int64_t> all =
        to_vector<int64_t>(g.all_gather(from_vector(mine, {per_rank})));
    std::vector<int> count(static_cast<size_t>(n), 0);
    for (int64_t i : all)
      if (i >= 0 && i < n) ++count[static_cast<size_t>(i)];
    CHECK(std::all_of(count.begin(), count.end(), [](int c) { return c == 1; }));
  }
}

TEST_CASE("first_config_difference: names the first differing key") {
  const std::string a = R"({"optimizer": {"lr": 0.3, "name": "lars"}, "batch": 256})";
  const std::string b = R"({"optimizer": {"lr": 0.6, "name": "lars"}, "batch": 256})";
  const std::string c = R"({"batch": 256, "optimizer": {"name": "lars", "lr": 0.3}})";
  CHECK(first_config_difference({a, c, a}).empty());  // key order does not matter
  CHECK_THAT(first_config_difference({a, a, b}), Catch::Contains("'optimizer.lr'") &&
                                                     Catch::Contains("0.3 on rank 0") &&
                                                     Catch::Contains("0.6 on rank 2"));
  const std::string d = R"({"optimizer": {"lr": 0.3, "name": "lars"}, "batch": 256, "x": [1]})";
  CHECK_THAT(first_config_difference({a, d}),
             Catch::Contains("'x.0'") && Catch::Contains("missing on rank 0"));
  CHECK_THAT(first_config_difference({a, "{not json"}),
             Catch::Contains("rank 1 is not valid JSON"));
}

TEST_CASE("check_same_config: agrees when equal, names the key when a rank differs", "[mpi]") {
  ProcessGroup& g = test_group();
  const std::string same = R"({"model": {"arch": "resnet18"}, "seed": 1, "lr": 0.5})";
  CHECK_NOTHROW(check_same_config(g, same));
  const std::string mine = g.rank() == g.world_size() - 1 && g.world_size() > 1
                               ? R"({"model": {"arch": "resnet50"}, "seed": 1, "lr": 0.5})"
                               : same;
  if (g.world_size() > 1) {
    // Every rank throws the same message (no rank is left waiting).
    CHECK_THROWS_WITH(check_same_config(g, mine), Catch::Contains("'model.arch'") &&
                                                      Catch::Contains("\"resnet18\" on rank 0") &&
                                                      Catch::Contains("\"resnet50\" on rank"));
  } else {
    CHECK_NOTHROW(check_same_config(g, mine));
  }
}

}  // namespace
}  // namespace simclr
