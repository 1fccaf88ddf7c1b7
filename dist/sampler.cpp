// DistributedSampler and check_same_config.
#include "dist/sampler.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <numeric>
#include <set>

#include "core/error.h"
#include "core/philox.h"

namespace simclr {

DistributedSampler::DistributedSampler(int64_t dataset_size, int world_size, int rank,
                                       uint64_t seed, bool shuffle, bool drop_last)
    : dataset_size_(dataset_size),
      world_size_(world_size),
      rank_(rank),
      seed_(seed),
      shuffle_(shuffle),
      drop_last_(drop_last) {
  SIMCLR_CHECK(world_size >= 1, "DistributedSampler: expected world_size >= 1, got ", world_size);
  SIMCLR_CHECK(rank >= 0 && rank < world_size, "DistributedSampler: rank ", rank, " is not in [0, ",
               world_size, ")");
  SIMCLR_CHECK(dataset_size >= 1, "DistributedSampler: expected a non-empty data set, got ",
               dataset_size, " samples");
  const int64_t w = world_size;
  total_size_ = drop_last ? dataset_size / w * w : (dataset_size + w - 1) / w * w;
  SIMCLR_CHECK(total_size_ > 0, "DistributedSampler: drop_last leaves nothing of ", dataset_size,
               " samples over ", world_size, " ranks");
}

std::vector<int64_t> DistributedSampler::permutation() const {
  std::vector<int64_t> perm(static_cast<size_t>(dataset_size_));
  std::iota(perm.begin(), perm.end(), int64_t{0});
  if (!shuffle_) return perm;
  // Fisher-Yates from the back; position i draws j uniform in [0, i] from block i of the
  // (seed, epoch) stream: 64 random bits modulo i + 1 (bias below (i + 1) / 2^64).
  for (int64_t i = dataset_size_ - 1; i > 0; --i) {
    const Philox4 r = philox_block(seed_, static_cast<uint64_t>(epoch_), static_cast<uint64_t>(i));
    const uint64_t bits = (static_cast<uint64_t>(r.v[0]) << 32) | r.v[1];
    const auto j = static_cast<int64_t>(bits % static_cast<uint64_t>(i + 1));
    std::swap(perm[static_cast<size_t>(i)], perm[static_cast<size_t>(j)]);
  }
  return perm;
}

std::vector<int64_t> DistributedSampler::indices() const {
  std::vector<int64_t> perm = permutation();
  if (drop_last_) {
    perm.resize(static_cast<size_t>(total_size_));
  } else {
    for (size_t i = 0; perm.size() < static_cast<size_t>(total_size_); ++i)
      perm.push_back(perm[i % static_cast<size_t>(dataset_size_)]);
  }
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(num_samples()));
  for (int64_t p = rank_; p < total_size_; p += world_size_)
    out.push_back(perm[static_cast<size_t>(p)]);
  return out;
}

namespace {

std::string dotted(const std::string& pointer) {
  std::string out = pointer.empty() ? std::string("(the whole document)") : pointer.substr(1);
  std::replace(out.begin(), out.end(), '/', '.');
  return out;
}

std::string shown(const nlohmann::json& flat, const std::string& key) {
  const auto it = flat.find(key);
  return it == flat.end() ? std::string("missing") : it->dump();
}

}  // namespace

std::string first_config_difference(const std::vector<std::string>& configs) {
  std::vector<nlohmann::json> flat;
  for (size_t r = 0; r < configs.size(); ++r) {
    const nlohmann::json doc = nlohmann::json::parse(configs[r], nullptr, false);
    if (doc.is_discarded())
      return detail::concat("check_same_config: the configuration of rank ", r,
                            " is not valid JSON");
    flat.push_back(doc.flatten());
  }
  std::set<std::string> keys;
  for (const nlohmann::json& f : flat)
    for (auto it = f.begin(); it != f.end(); ++it) keys.insert(it.key());
  for (const std::string& key : keys) {
    const std::string reference = shown(flat[0], key);
    for (size_t r = 1; r < flat.size(); ++r) {
      const std::string value = shown(flat[r], key);
      if (value != reference)
        return detail::concat("check_same_config: the ranks' configurations differ at key '",
                              dotted(key), "': ", reference, " on rank 0, ", value, " on rank ", r);
    }
  }
  return "";
}

void check_same_config(ProcessGroup& group, const std::string& config_json) {
  const std::string difference = first_config_difference(group.all_gather_strings(config_json));
  SIMCLR_CHECK(difference.empty(), difference);
}

}  // namespace simclr
