// The trainer's checkpoints, resume, kNN monitor and final report.
//
// A checkpoint holds the model's parameters and buffers (torchvision's names under "encoder." and
// the head under "head."), every optimizer state tensor, the global step, and as metadata the
// effective config and the step. The run's randomness is counter-based (Philox keyed by the seed
// and the epoch, counter by sample: sampling and augmentation), so (seed, step) is the whole RNG
// state: a resumed run draws the same batches and views as an uninterrupted one.
#include <filesystem>

#include "core/error.h"
#include "kernels/ops.h"
#include "layers/checkpoint.h"
#include "simclr/evaluation.h"
#include "simclr/plot.h"
#include "simclr/trainer_state.h"

namespace simclr {

namespace {

constexpr const char* kConfigKey = "simclr.config";
constexpr const char* kStepKey = "trainer.step";

// Keys a resumed run may change: how long it runs, how it reports, where it writes.
bool may_change_on_resume(const std::string& key) {
  for (const char* prefix : {"train.max_steps", "train.time_budget_s", "train.log_every",
                             "train.device", "eval.", "output.", "data.threads", "data.on_device"})
    if (key.rfind(prefix, 0) == 0) return true;
  return false;
}

nlohmann::json comparable(const nlohmann::json& config) {
  nlohmann::json flat = config.flatten(), out = nlohmann::json::object();
  for (const auto& [pointer, value] : flat.items()) {
    std::string key = pointer.substr(1);
    std::replace(key.begin(), key.end(), '/', '.');
    if (!may_change_on_resume(key)) out[nlohmann::json::json_pointer(pointer)] = value;
  }
  return out;
}

}  // namespace

// Sampling and augmentation are Philox streams keyed by (seed, epoch) and counted by sample, so
// the seed and the step are the whole random state of the run.
std::string Trainer::State::rng_state() const {
  return "philox seed " + std::to_string(config.train.seed) + ", step " + std::to_string(step);
}

void Trainer::State::save(const std::string& reason) {
  if (!leader) return;
  std::vector<std::pair<std::string, Tensor>> extra = optimizer->state();
  extra.emplace_back(kStepKey, from_vector(std::vector<int64_t>{step}, Shape{1}));
  const std::map<std::string, std::string> metadata{{kConfigKey, to_json(config).dump()},
                                                    {"simclr.step", std::to_string(step)},
                                                    {"simclr.reason", reason},
                                                    {"simclr.rng", rng_state()}};
  save_checkpoint(path("checkpoint.safetensors"), *model, extra, metadata);
  save_checkpoint(path("encoder.safetensors"), model->encoder(), {},
                  {{kConfigKey, to_json(config).dump()}, {"simclr.step", std::to_string(step)}});
  last_good_checkpoint_step = step;
  print("checkpoint (" + reason + ", step " + std::to_string(step) +
        "): " + path("checkpoint.safetensors"));
}

void Trainer::State::restore() {
  const std::string file = path("checkpoint.safetensors");
  SIMCLR_CHECK(std::filesystem::exists(file), "--resume: no checkpoint at ", file,
               " (output.dir is ", config.output.dir, ")");
  Checkpoint ck = load_checkpoint(file, *model, /*strict=*/true);
  const auto saved = ck.metadata.find(kConfigKey);
  SIMCLR_CHECK(saved != ck.metadata.end(), file, ": not a simclr_train checkpoint (no ", kConfigKey,
               " metadata)");
  nlohmann::json saved_config =
      nlohmann::json::parse(saved->second, nullptr, /*allow_exceptions=*/false);
  SIMCLR_CHECK(!saved_config.is_discarded(), file, ": the ", kConfigKey,
               " metadata is not valid JSON");
  const std::string diff = first_config_difference(
      {comparable(saved_config).dump(), comparable(to_json(config)).dump()});
  SIMCLR_CHECK(diff.empty(), "--resume: ", file,
               " was written by a run with a different config (rank 0 = the checkpoint, rank 1 "
               "= this run): ",
               diff);
  std::map<std::string, Tensor> by_name(ck.extra.begin(), ck.extra.end());
  for (auto& [name, t] : optimizer->state()) {
    const auto it = by_name.find(name);
    SIMCLR_CHECK(it != by_name.end(), file, ": missing optimizer state '", name, "'");
    SIMCLR_CHECK(it->second.shape() == t.shape() && it->second.dtype() == t.dtype(), file,
                 ": optimizer state '", name, "' is ", it->second.str(), ", expected ", t.str());
    NoGradGuard no_grad;
    copy_(t, it->second);
  }
  const auto it = by_name.find(kStepKey);
  SIMCLR_CHECK(it != by_name.end() && it->second.dtype() == DType::i64 && it->second.numel() == 1,
               file, ": missing the int64 '", kStepKey, "' tensor");
  step = it->second.data<int64_t>()[0];
  SIMCLR_CHECK(0 <= step && step <= total_steps, file, ": step ", step, " is outside [0, ",
               total_steps, "]");
  last_good_checkpoint_step = step;
  print("resumed from " + file + " at step " + std::to_string(step) + " (epoch " +
        std::to_string(step / steps_per_epoch + 1) + ")");
}

double Trainer::State::knn_monitor() {
  if (!test) return -1;
  if (leader) {
    const EvalConfig& e = config.eval;
    ResNet& encoder = model->encoder();
    train_features = extract_features(encoder, train_images, policy, dtype, device, e.batch_size);
    test_features = extract_features(encoder, test->images, policy, dtype, device, e.batch_size);
    last_knn = knn_accuracy(train_features, train.labels, test_features, test->labels,
                            train.num_classes, e.knn_k, e.knn_temperature);
    char line[128];
    std::snprintf(line, sizeof line, "step %lld (epoch %.2f): kNN top-1 %.4f",
                  static_cast<long long>(step),
                  static_cast<double>(step) / static_cast<double>(steps_per_epoch), last_knn);
    print(line);
  }
  feature_step = step;
  group.barrier();
  return last_knn;
}

void Trainer::State::final_evaluation(TrainSummary& summary) {
  if (test) {
    if (feature_step != step) knn_monitor();
    summary.knn_accuracy = last_knn;
  }
  if (leader && test && config.eval.linear_probe) {
    ProbeConfig pc;
    pc.epochs = config.eval.probe_epochs;
    pc.lr = config.eval.probe_lr;
    pc.batch_size = config.eval.probe_batch_size;
    pc.seed = config.train.seed;
    summary.probe_accuracy = linear_probe(train_features, train.labels, test_features, test->labels,
                                          train.num_classes, pc)
                                 .test_accuracy;
  }
  group.barrier();
  if (!leader) return;
  write_metrics({{"event", "end"},
                 {"step", step},
                 {"knn_acc", summary.knn_accuracy},
                 {"probe_acc", summary.probe_accuracy},
                 {"images_per_s", summary.images_per_s},
                 {"elapsed_s", elapsed_s()}});
  if (config.output.plot) plot_training_curves(path("metrics.jsonl"), path("training_curves.png"));
}

}  // namespace simclr
