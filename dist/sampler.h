// Sharding the data set over the ranks, and checking that the ranks run the same configuration.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dist/process_group.h"

namespace simclr {

// Each epoch's order of the data set, cut into world_size shards, as PyTorch's
// DistributedSampler does:
//   - the permutation of [0, dataset_size) is a Fisher-Yates shuffle drawn from Philox keyed by
//     `seed` with the epoch as subsequence (philox_block(seed, epoch, i)), so every rank computes
//     the same order with no communication, and the order depends on nothing but (seed, epoch);
//     with shuffle off it is 0, 1, 2, ...;
//   - it is made a multiple of world_size: padded by repeating its own first indices (as many as
//     needed, wrapping around for tiny data sets) or, with drop_last, cut by dropping its tail
//     (fewer than world_size indices);
//   - rank r takes positions r, r + W, r + 2W, ... of it.
// So in one epoch, without padding, every index is visited exactly once across the ranks; with
// padding, the first (total_size - dataset_size) indices of the permutation twice.
class DistributedSampler {
 public:
  DistributedSampler(int64_t dataset_size, int world_size, int rank, uint64_t seed,
                     bool shuffle = true, bool drop_last = false);

  void set_epoch(int64_t epoch) { epoch_ = epoch; }
  int64_t epoch() const { return epoch_; }

  // The epoch's full permutation (before padding or dropping), identical on every rank.
  std::vector<int64_t> permutation() const;
  // This rank's indices for the current epoch, num_samples() of them.
  std::vector<int64_t> indices() const;

  int64_t num_samples() const { return total_size_ / world_size_; }  // per rank
  int64_t total_size() const { return total_size_; }                 // over all ranks
  int64_t dataset_size() const { return dataset_size_; }

 private:
  int64_t dataset_size_;
  int world_size_;
  int rank_;
  uint64_t seed_;
  bool shuffle_;
  bool drop_last_;
  int64_t total_size_;
  int64_t epoch_ = 0;
};

// Gathers every rank's configuration (a JSON document) and throws, on every rank alike, when they
// differ: the message names the first differing key (in sorted order of the flattened keys,
// dotted: "optimizer.lr") with its value on rank 0 and on the first rank that differs, or the
// rank whose text is not valid JSON. Collective.
void check_same_config(ProcessGroup& group, const std::string& config_json);

// The comparison behind check_same_config, on the ranks' texts in rank order: "" when they agree,
// otherwise the message check_same_config throws.
std::string first_config_difference(const std::vector<std::string>& configs);

}  // namespace simclr
