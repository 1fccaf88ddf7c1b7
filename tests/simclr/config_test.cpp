// The config: defaults per device, JSON files and key=value overrides, and one clear error (naming
// the source and the key's path) for every kind of bad input; docs/config.md lists every key.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "simclr/config.h"

namespace simclr {

namespace {

std::string write_text(const std::string& name, const std::string& text) {
  std::filesystem::create_directories(SIMCLR_TEST_OUTPUT_DIR);
  const std::string path = std::string(SIMCLR_TEST_OUTPUT_DIR) + "/" + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("config defaults differ by device", "[simclr][config]") {
  const Config cpu = default_config(Device::cpu());
  const Config gpu = default_config(Device::cuda(0));
  CHECK(cpu.model.width == 16);
  CHECK(gpu.model.width == 64);
  CHECK(cpu.optimizer.name == "adamw");
  CHECK(gpu.optimizer.name == "lars");
  CHECK(cpu.data.dataset == "fashion-mnist");
  CHECK(cpu.augment.out_h == 0);
  CHECK_NOTHROW(validate(cpu));
  CHECK_NOTHROW(validate(gpu));
}

TEST_CASE("config files and overrides set single keys", "[simclr][config]") {
  Config c = default_config(Device::cpu());
  apply_json(c, nlohmann::json::parse(R"({"train": {"batch_size": 64, "temperature": 0.2},
      "augment": {"mean": [0.1, 0.2, 0.3], "blur": true}, "model": {"depth": 50}})"),
             "test");
  CHECK(c.train.batch_size == 64);
  CHECK(c.train.temperature == 0.2);
  CHECK(c.augment.mean[2] == 0.3f);
  CHECK(c.augment.blur);
  CHECK(c.model.depth == 50);
  apply_override(c, "train.batch_size=128");
  apply_override(c, "data.dataset=cifar10");
  apply_override(c, "output.dir=123");  // a string key keeps text that would parse as JSON
  apply_override(c, "augment.flip=false");
  apply_override(c, "train.seed=18446744073709551615");
  CHECK(c.train.batch_size == 128);
  CHECK(c.data.dataset == "cifar10");
  CHECK(c.output.dir == "123");
  CHECK_FALSE(c.augment.flip);
  CHECK(c.train.seed == 18446744073709551615ull);

  // The effective config written beside a run reads back to the same config.
  Config d = default_config(Device::cuda(0));
  apply_json(d, to_json(c), "round trip");
  CHECK(to_json(d) == to_json(c));
}

TEST_CASE("config errors name the source, the key and what was expected", "[simclr][config]") {
  Config c = default_config(Device::cpu());
  using Catch::Contains;
  CHECK_THROWS_WITH(
      apply_json(c, nlohmann::json::parse(R"({"train": {"batchsize": 3}})"), "f.json"),
      Contains("f.json: unknown key 'train.batchsize'") &&
          Contains("did you mean 'train.batch_size'"));
  CHECK_THROWS_WITH(apply_json(c, nlohmann::json::parse(R"({"trainer": {}})"), "f.json"),
                    Contains("unknown key 'trainer'"));
  CHECK_THROWS_WITH(apply_json(c, nlohmann::json::parse(R"({"train": 3})"), "f.json"),
                    Contains("key 'train' expected an object"));
  CHECK_THROWS_WITH(
      apply_json(c, nlohmann::json::parse(R"({"train": {"batch_size": "big"}})"), "f.json"),
      Contains("f.json: key 'train.batch_size' expected an integer, got \"big\" (a string)"));
  CHECK_THROWS_WITH(
      apply_json(c, nlohmann::json::parse(R"({"train": {"batch_size": 2.5}})"), "f.json"),
      Contains("expected an integer, got 2.5 (a number)"));
  CHECK_THROWS_WITH(apply_json(c, nlohmann::json::parse(R"({"train": {"seed": -1}})"), "f.json"),
                    Contains("'train.seed' expected a non-negative integer"));
  CHECK_THROWS_WITH(apply_json(c, nlohmann::json::parse(R"({"model": {"depth": 1e12}})"), "f.json"),
                    Contains("'model.depth' expected an integer"));
  CHECK_THROWS_WITH(
      apply_json(c, nlohmann::json::parse(R"({"augment": {"std": [1, 2]}})"), "f.json"),
      Contains("'augment.std' expected an array of 3 numbers"));
  CHECK_THROWS_WITH(apply_json(c, nlohmann::json::parse(R"({"augment": {"flip": 1}})"), "f.json"),
                    Contains("'augment.flip' expected true or false"));
  CHECK_THROWS_WITH(apply_json(c, nlohmann::json::parse("[1]"), "f.json"),
                    Contains("expected a JSON object at the top"));
  CHECK_THROWS_WITH(apply_override(c, "train.batch_size"), Contains("expected key=value"));
  CHECK_THROWS_WITH(apply_override(c, "train.bach_size=4"),
                    Contains("override 'train.bach_size=4': unknown key") &&
                        Contains("did you mean 'train.batch_size'"));
  CHECK_THROWS_WITH(apply_override(c, "train.epochs=many"),
                    Contains("'train.epochs' expected an integer, got \"many\""));

  const std::string bad = write_text("bad_config.json", "{\"train\": {\"epochs\": 3,}}");
  CHECK_THROWS_WITH(apply_file(c, bad), Contains(bad) && Contains("not valid JSON"));
  CHECK_THROWS_WITH(apply_file(c, "/nonexistent/simclr.json"),
                    Contains("/nonexistent/simclr.json: cannot be opened"));
}

TEST_CASE("config values out of range are refused with their key", "[simclr][config]") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"train.batch_size=1", "train.batch_size must be >= 2"},
      {"train.temperature=0", "train.temperature must be > 0"},
      {"train.epochs=0", "train.epochs must be >= 1"},
      {"train.dtype=f16", "train.dtype must be one of auto, bf16, f32"},
      {"data.dataset=imagenet", "data.dataset must be one of"},
      {"data.channels=2", "data.channels must be 1 or 3"},
      {"model.depth=20", "model.depth must be 18, 34 or 50"},
      {"optimizer.name=adam", "optimizer.name must be one of adamw, lars, sgd"},
      {"schedule.lr_scaling=log", "schedule.lr_scaling must be one of"},
      {"schedule.warmup_epochs=1000", "schedule.warmup_epochs must be in [0, train.epochs]"},
      {"augment.flip_p=1.5", "augment.flip_p must be a probability"},
      {"augment.scale_min=0", "augment.scale_min must be in (0, 1]"},
      {"augment.blur_kernel=4", "augment.blur_kernel must be 0 or odd"},
      {"augment.std=[1,0,1]", "augment.std must be positive"},
      {"eval.knn_k=0", "eval.knn_k must be >= 1"},
      {"output.dir=", "output.dir must not be empty"},
  };
  for (const auto& [override_text, message] : cases) {
    INFO(override_text);
    Config c = default_config(Device::cpu());
    apply_override(c, override_text);
    CHECK_THROWS_WITH(validate(c), Catch::Contains("config: " + message));
  }
}

TEST_CASE("load_config: defaults for the device, then the file, then the overrides",
          "[simclr][config]") {
  const std::string file =
      write_text("run_config.json", R"({"train": {"device": "cpu", "batch_size": 96}})");
  Device device;
  const Config c = load_config(file, {"train.epochs=3", "train.batch_size=48"}, &device);
  CHECK(device == Device::cpu());
  CHECK(c.model.width == 16);  // the CPU default
  CHECK(c.train.batch_size == 48);
  CHECK(c.train.epochs == 3);
  CHECK_THROWS_WITH(load_config("", {"train.device=tpu"}, &device),
                    Catch::Contains("train.device: expected auto, cpu or cuda, got 'tpu'"));
}

TEST_CASE("docs/config.md lists every key with both defaults", "[simclr][config]") {
  const std::string path = std::string(SIMCLR_TEST_DATA_DIR) + "/../../docs/config.md";
  std::ifstream in(path);
  REQUIRE(in.good());
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const ConfigKeyDoc& d : config_docs()) {
    INFO(d.key);
    const std::string row =
        "| `" + d.key + "` | `" + d.cpu_default + "` | `" + d.gpu_default + "` |";
    CHECK(doc.find(row) != std::string::npos);
  }
}

}  // namespace simclr
