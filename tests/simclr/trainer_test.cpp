// Short CPU runs of the whole trainer on a tiny IDX data set written here: the loop and its
// outputs, resume with bit-equal losses, the SIGTERM checkpoint, and a diverging run stopping at
// its non-finite loss with the last good checkpoint kept.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include <random>

#include "dist/dist_test_util.h"
#include "layers/checkpoint.h"
#include "simclr/model.h"
#include "simclr/trainer.h"

namespace simclr {

namespace {

namespace fs = std::filesystem;

void write_idx(const fs::path& path, uint32_t magic, const std::vector<uint32_t>& dims,
               const std::vector<uint8_t>& data) {
  std::ofstream out(path, std::ios::binary);
  auto be32 = [&](uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 8), static_cast<char>(v)};
    out.write(b, 4);
  };
  be32(magic);
  for (uint32_t d : dims) be32(d);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// A Fashion-MNIST-shaped data set of n random 12 x 12 images per split: class k images are
// brighter in row band k, so that the task is learnable at all.
std::string tiny_dataset(const std::string& name, uint32_t n_train, uint32_t n_test) {
  const fs::path dir = fs::path(SIMCLR_TEST_OUTPUT_DIR) / name;
  fs::create_directories(dir);
  std::mt19937 gen(7);
  for (const auto& [prefix, n] : {std::pair{"train", n_train}, {"t10k", n_test}}) {
    std::vector<uint8_t> images(static_cast<size_t>(n) * 144), labels(n);
    for (uint32_t i = 0; i < n; ++i) {
      labels[i] = static_cast<uint8_t>(i % 4);
      for (uint32_t p = 0; p < 144; ++p) {
        const uint32_t bits = static_cast<uint32_t>(gen());
        images[i * 144 + p] = static_cast<uint8_t>((bits % 96) + (p / 36 == labels[i] ? 150 : 0));
      }
    }
    write_idx(dir / (std::string(prefix) + "-images-idx3-ubyte"), 2051, {n, 12, 12}, images);
    write_idx(dir / (std::string(prefix) + "-labels-idx1-ubyte"), 2049, {n}, labels);
  }
  return dir.string();
}

Config tiny_config(const std::string& data, const std::string& out) {
  Config c = default_config(Device::cpu());
  c.data.path = data;
  c.model.width = 4;
  c.model.out_dim = 8;
  c.train.batch_size = 8;
  c.train.epochs = 2;
  c.train.log_every = 2;
  c.train.deterministic = true;
  c.eval.probe_epochs = 2;
  c.eval.knn_k = 5;
  c.output.dir = (fs::path(SIMCLR_TEST_OUTPUT_DIR) / out).string();
  fs::remove_all(c.output.dir);
  validate(c);
  return c;
}

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

ProcessGroup& group() {
  return test::test_group();
}

}  // namespace

TEST_CASE("a short run trains, evaluates and writes its outputs", "[simclr][trainer]") {
  const Config c = tiny_config(tiny_dataset("tiny_a", 40, 20), "run_a");
  Trainer trainer(c, Device::cpu(), group(), false);
  const TrainSummary s = trainer.fit();
  CHECK(s.stop_reason == "done");
  CHECK(s.steps == 10);  // 40 / 8 steps per epoch, 2 epochs
  CHECK(s.epochs_done == 2);
  CHECK(trainer.step_losses().size() == 10);
  for (float l : trainer.step_losses()) CHECK(std::isfinite(l));
  CHECK(s.knn_accuracy >= 0.0);
  CHECK(s.knn_accuracy <= 1.0);
  CHECK(s.probe_accuracy >= 0.0);
  CHECK(s.probe_accuracy <= 1.0);
  for (const char* f : {"config.json", "metrics.jsonl", "checkpoint.safetensors",
                        "encoder.safetensors", "training_curves.png"})
    CHECK(fs::exists(fs::path(c.output.dir) / f));
  const auto lines = read_jsonl(c.output.dir + "/metrics.jsonl");
  int steps = 0, epochs = 0, ends = 0;
  for (const auto& l : lines) {
    steps += l["event"] == "step";
    epochs += l["event"] == "epoch";
    ends += l["event"] == "end";
  }
  CHECK(lines.front()["event"] == "start");
  CHECK(steps == 6);  // windows of 2 steps, and the epoch's last partial window
  CHECK(epochs == 2);
  CHECK(ends == 1);
  // The effective config reads back as this run's config.
  Config back = default_config(Device::cuda(0));
  std::ifstream cfg(c.output.dir + "/config.json");
  apply_json(back, nlohmann::json::parse(cfg), "config.json");
  CHECK(to_json(back) == to_json(c));
}

TEST_CASE("a resumed run continues with bit-equal losses", "[simclr][trainer]") {
  const std::string data = tiny_dataset("tiny_b", 40, 20);
  Config full = tiny_config(data, "run_full");
  full.eval.knn_every_epoch = false;
  full.eval.linear_probe = false;
  Trainer uninterrupted(full, Device::cpu(), group(), false);
  REQUIRE(uninterrupted.fit().stop_reason == "done");
  const std::vector<float> want = uninterrupted.step_losses();

  Config part = tiny_config(data, "run_part");
  part.eval = full.eval;
  part.train.max_steps = 7;  // stops mid-epoch 2
  std::vector<float> got;
  {
    Trainer first(part, Device::cpu(), group(), false);
    const TrainSummary s = first.fit();
    CHECK(s.stop_reason == "max steps");
    got = first.step_losses();
  }
  part.train.max_steps = 0;
  Trainer second(part, Device::cpu(), group(), true);
  CHECK(second.fit().stop_reason == "done");
  got.insert(got.end(), second.step_losses().begin(), second.step_losses().end());
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("step " << i + 1);
    CHECK(got[i] == want[i]);  // bit for bit
  }

  // A changed config that would change the run is refused, naming the key.
  Config changed = part;
  changed.train.temperature = 0.25;
  CHECK_THROWS_WITH(Trainer(changed, Device::cpu(), group(), true),
                    Catch::Contains("train.temperature"));
  Config missing = tiny_config(data, "run_missing");
  CHECK_THROWS_WITH(Trainer(missing, Device::cpu(), group(), true),
                    Catch::Contains("--resume: no checkpoint at"));
}

TEST_CASE("SIGTERM stops the run with a checkpoint that resumes", "[simclr][trainer]") {
  Config c = tiny_config(tiny_dataset("tiny_c", 40, 20), "run_signal");
  c.train.epochs = 400;  // far longer than the signal takes to arrive
  c.train.log_every = 1;
  c.eval.knn_every_epoch = false;
  c.output.checkpoint_every_epoch = false;
  install_stop_signals();
  request_stop(false);
  Trainer trainer(c, Device::cpu(), group(), false);
  std::thread sender([&] {
    const std::string metrics = c.output.dir + "/metrics.jsonl";
    for (int i = 0; i < 60000; ++i) {
      std::ifstream in(metrics);
      const std::string text((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
      if (text.find("\"event\":\"step\"") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::raise(SIGTERM);
  });
  const TrainSummary s = trainer.fit();
  sender.join();
  request_stop(false);
  CHECK(s.stop_reason == "signal");
  CHECK(s.steps > 0);
  CHECK(s.steps < 400 * 5);
  CHECK(s.knn_accuracy == -1);
  SimCLRModel probe_model(ResNetConfig{18, 1, 4, true, false, 0}, ProjectionHeadConfig{2, 0, 8});
  const Checkpoint ck =
      load_checkpoint(c.output.dir + "/checkpoint.safetensors", probe_model, true);
  CHECK(ck.metadata.at("simclr.reason") == "signal");
  CHECK(ck.metadata.at("simclr.step") == std::to_string(s.steps));
}

TEST_CASE("a diverging run stops at its non-finite loss and keeps the last good checkpoint",
          "[simclr][trainer]") {
  Config c = tiny_config(tiny_dataset("tiny_d", 40, 20), "run_nan");
  c.optimizer.name = "sgd";
  c.schedule.lr = 1e30;
  c.train.log_every = 1;
  c.eval.knn_every_epoch = false;
  Trainer trainer(c, Device::cpu(), group(), false);
  const TrainSummary s = trainer.fit();
  CHECK(s.stop_reason == "non-finite loss");
  CHECK(s.steps < 10);
  CHECK_FALSE(fs::exists(fs::path(c.output.dir) / "checkpoint.safetensors"));
}

}  // namespace simclr
