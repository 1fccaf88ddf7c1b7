// The config keys, listed once (visit_config), and the readers and writers that walk them.
#include "simclr/config.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "core/cuda_device.h"
#include "core/error.h"

namespace simclr {

namespace {

using nlohmann::json;

// One field: its key, documentation, and how to read it from and write it to JSON. Reading checks
// the JSON type and names the key and the source on a mismatch.
struct Field {
  std::string key;
  std::string doc;
  std::function<void(const json&, const std::string& source)> read;
  std::function<json()> write;
};

std::string kind_of(const json& j) {
  if (j.is_boolean()) return "a boolean";
  if (j.is_number_integer() || j.is_number_unsigned()) return "an integer";
  if (j.is_number()) return "a number";
  if (j.is_string()) return "a string";
  if (j.is_array()) return "an array";
  if (j.is_object()) return "an object";
  return "null";
}

[[noreturn]] void type_error(const std::string& source, const std::string& key,
                             const std::string& expected, const json& got) {
  SIMCLR_THROW(source, ": key '", key, "' expected ", expected, ", got ", got.dump(), " (",
               kind_of(got), ")");
}

class FieldList {
 public:
  void add(const std::string& key, std::string& v, const std::string& doc) {
    push(
        key, doc,
        [&v, key](const json& j, const std::string& src) {
          if (!j.is_string()) type_error(src, key, "a string", j);
          v = j.get<std::string>();
        },
        [&v] { return json(v); });
  }
  void add(const std::string& key, bool& v, const std::string& doc) {
    push(
        key, doc,
        [&v, key](const json& j, const std::string& src) {
          if (!j.is_boolean()) type_error(src, key, "true or false", j);
          v = j.get<bool>();
        },
        [&v] { return json(v); });
  }
  void add(const std::string& key, double& v, const std::string& doc) {
    push(
        key, doc,
        [&v, key](const json& j, const std::string& src) {
          if (!j.is_number()) type_error(src, key, "a number", j);
          v = j.get<double>();
        },
        [&v] { return json(v); });
  }
  void add(const std::string& key, float& v, const std::string& doc) {
    push(
        key, doc,
        [&v, key](const json& j, const std::string& src) {
          if (!j.is_number()) type_error(src, key, "a number", j);
          v = j.get<float>();
        },
        [&v] { return json(static_cast<double>(v)); });
  }
  template <typename Int>
  void add_int(const std::string& key, Int& v, const std::string& doc) {
    push(
        key, doc,
        [&v, key](const json& j, const std::string& src) {
          const bool ok =
              j.is_number_unsigned() ||
              (j.is_number_integer() && (std::is_signed_v<Int> || j.get<int64_t>() >= 0));
          if (!ok)
            type_error(src, key, std::is_signed_v<Int> ? "an integer" : "a non-negative integer",
                       j);
          if (j.is_number_unsigned()) {
            const uint64_t u = j.get<uint64_t>();
            if (u > static_cast<uint64_t>(std::numeric_limits<Int>::max()))
              type_error(src, key, "an integer in range", j);
            v = static_cast<Int>(u);
          } else {
            const int64_t i = j.get<int64_t>();
            if (i < static_cast<int64_t>(std::numeric_limits<Int>::min()) ||
                (i > 0 &&
                 static_cast<uint64_t>(i) > static_cast<uint64_t>(std::numeric_limits<Int>::max())))
              type_error(src, key, "an integer in range", j);
            v = static_cast<Int>(i);
          }
        },
        [&v] { return json(v); });
  }
  void add(const std::string& key, int& v, const std::string& doc) { add_int(key, v, doc); }
  void add(const std::string& key, int64_t& v, const std::string& doc) { add_int(key, v, doc); }
  void add(const std::string& key, uint64_t& v, const std::string& doc) { add_int(key, v, doc); }
  void add(const std::string& key, float (&v)[3], const std::string& doc) {
    push(
        key, doc,
        [&v, key](const json& j, const std::string& src) {
          const bool ok =
              j.is_array() && j.size() == 3 &&
              std::all_of(j.begin(), j.end(), [](const json& e) { return e.is_number(); });
          if (!ok) type_error(src, key, "an array of 3 numbers (one per channel)", j);
          for (size_t i = 0; i < 3; ++i) v[i] = j[i].get<float>();
        },
        [&v] {
          return json::array({v[0], v[1], v[2]});
        });
  }

  const std::vector<Field>& fields() const { return fields_; }

 private:
  void push(const std::string& key, const std::string& doc,
            std::function<void(const json&, const std::string&)> read,
            std::function<json()> write) {
    fields_.push_back({key, doc, std::move(read), std::move(write)});
  }
  std::vector<Field> fields_;
};

void list_data_and_model(Config& c, FieldList& f) {
  f.add("data.dataset", c.data.dataset, "fashion-mnist, cifar10, cifar100 or folder");
  f.add("data.path", c.data.path,
        "the data set's directory (IDX files, CIFAR binary batches, or the training folder)");
  f.add("data.test_path", c.data.test_path, "folder: the test split's root (empty: none)");
  f.add("data.image_size", c.data.image_size, "folder: images resized and center-cropped to this");
  f.add("data.channels", c.data.channels, "folder: 1 (grayscale) or 3 (RGB)");
  f.add("data.threads", c.data.threads, "folder: decoding threads (0: every core)");
  f.add("data.on_device", c.data.on_device, "keep the uint8 training set on the GPU");
  f.add("model.depth", c.model.depth, "ResNet depth: 18, 34 or 50");
  f.add("model.width", c.model.width, "channels of the stem and layer1 (64: torchvision's)");
  f.add("model.small_stem", c.model.small_stem,
        "3x3 stride-1 conv1 and no max-pool, for 28-32 px images");
  f.add("model.zero_init_residual", c.model.zero_init_residual, "zero-init each block's last BN");
  f.add("model.head_layers", c.model.head_layers,
        "projection head Linear layers: 2 (SimCLR v1) or 3 (v2)");
  f.add("model.head_hidden", c.model.head_hidden, "head hidden size (0: the encoder's features)");
  f.add("model.out_dim", c.model.out_dim, "the embedding size the loss sees");
}

void list_augment(Config& c, FieldList& f) {
  AugmentPolicy& a = c.augment;
  f.add("augment.size", a.out_h, "output side in pixels (0: the data set's image size)");
  f.add("augment.crop", a.crop, "random resized crop (off: the whole image, resized)");
  f.add("augment.scale_min", a.scale_min, "crop area fraction, lower bound");
  f.add("augment.scale_max", a.scale_max, "crop area fraction, upper bound");
  f.add("augment.ratio_min", a.ratio_min, "crop aspect ratio, lower bound");
  f.add("augment.ratio_max", a.ratio_max, "crop aspect ratio, upper bound");
  f.add("augment.flip", a.flip, "random horizontal flip");
  f.add("augment.flip_p", a.flip_p, "flip probability");
  f.add("augment.jitter", a.jitter, "color jitter (brightness, contrast, saturation, hue)");
  f.add("augment.jitter_p", a.jitter_p, "jitter probability");
  f.add("augment.strength", a.strength, "jitter strength s: 0.8s, 0.8s, 0.8s, 0.2s");
  f.add("augment.grayscale", a.grayscale, "random grayscale (3-channel images)");
  f.add("augment.grayscale_p", a.grayscale_p, "grayscale probability");
  f.add("augment.blur", a.blur, "Gaussian blur");
  f.add("augment.blur_p", a.blur_p, "blur probability");
  f.add("augment.sigma_min", a.sigma_min, "blur sigma, lower bound");
  f.add("augment.sigma_max", a.sigma_max, "blur sigma, upper bound");
  f.add("augment.blur_kernel", a.blur_kernel, "blur kernel side (0: 10% of the output, odd)");
  f.add("augment.normalize", a.normalize, "per-channel (x - mean) / std");
  f.add("augment.mean", a.mean, "per-channel mean (3 values; 1-channel images use the first)");
  f.add("augment.std", a.std, "per-channel std");
}

void list_train(Config& c, FieldList& f) {
  f.add("train.device", c.train.device, "auto (a GPU when one is usable), cpu or cuda");
  f.add("train.dtype", c.train.dtype, "auto (bf16 on CUDA, f32 on the CPU), f32 or bf16");
  f.add("train.batch_size", c.train.batch_size, "the global batch in samples (two views each)");
  f.add("train.epochs", c.train.epochs, "epochs (the schedule spans them)");
  f.add("train.time_budget_s", c.train.time_budget_s,
        "> 0: stop with a checkpoint once training has run this many seconds");
  f.add("train.max_steps", c.train.max_steps, "> 0: stop after this many steps");
  f.add("train.temperature", c.train.temperature, "NT-Xent temperature tau");
  f.add("train.seed", c.train.seed, "seeds the initialization, sampling and augmentation");
  f.add("train.deterministic", c.train.deterministic,
        "deterministic algorithms: same seed, same losses bit for bit");
  f.add("train.log_every", c.train.log_every, "steps between progress updates and metrics lines");
  f.add("optimizer.name", c.optimizer.name, "lars, sgd or adamw");
  f.add("optimizer.momentum", c.optimizer.momentum, "lars and sgd momentum");
  f.add("optimizer.weight_decay", c.optimizer.weight_decay, "weight decay");
  f.add("optimizer.trust_coefficient", c.optimizer.trust_coefficient, "LARS eta");
  f.add("optimizer.nesterov", c.optimizer.nesterov, "sgd: Nesterov momentum");
  f.add("optimizer.beta1", c.optimizer.beta1, "adamw beta1");
  f.add("optimizer.beta2", c.optimizer.beta2, "adamw beta2");
  f.add("optimizer.eps", c.optimizer.eps, "adamw epsilon");
  f.add("optimizer.exclude_bias_and_bn", c.optimizer.exclude_bias_and_bn,
        "biases and BN parameters take no weight decay (nor LARS adaptation)");
  f.add("schedule.lr", c.schedule.lr, "base learning rate, before batch-size scaling");
  f.add("schedule.lr_scaling", c.schedule.lr_scaling,
        "linear (lr * batch / 256), sqrt (lr * sqrt(batch)) or none");
  f.add("schedule.warmup_epochs", c.schedule.warmup_epochs, "linear warm-up, then cosine decay");
  f.add("schedule.final_lr_fraction", c.schedule.final_lr_fraction,
        "the cosine ends at this fraction of the peak");
}

void list_eval_output_dist(Config& c, FieldList& f) {
  f.add("eval.knn_every_epoch", c.eval.knn_every_epoch, "kNN monitor on the test split each epoch");
  f.add("eval.knn_k", c.eval.knn_k, "kNN neighbours (cosine similarity)");
  f.add("eval.knn_temperature", c.eval.knn_temperature, "kNN votes weighted by exp(s / T)");
  f.add("eval.linear_probe", c.eval.linear_probe, "linear probe on frozen features at the end");
  f.add("eval.probe_epochs", c.eval.probe_epochs, "linear probe epochs");
  f.add("eval.probe_lr", c.eval.probe_lr, "linear probe AdamW learning rate");
  f.add("eval.probe_batch_size", c.eval.probe_batch_size, "linear probe batch size");
  f.add("eval.batch_size", c.eval.batch_size, "images per batch when extracting features");
  f.add("output.dir", c.output.dir, "where checkpoints, metrics, config and plot go");
  f.add("output.checkpoint_every_epoch", c.output.checkpoint_every_epoch,
        "write a checkpoint at the end of every epoch");
  f.add("output.plot", c.output.plot, "write training_curves.png at the end of the run");
  f.add("dist.bucket_mb", c.dist.bucket_mb, "gradient all-reduce bucket size in MiB");
  f.add("dist.sync_bn", c.dist.sync_bn, "batch-norm statistics over the global batch");
}

FieldList fields_of(Config& c) {
  FieldList f;
  list_data_and_model(c, f);
  list_augment(c, f);
  list_train(c, f);
  list_eval_output_dist(c, f);
  return f;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

[[noreturn]] void unknown_key(const std::string& source, const std::string& key,
                              const std::vector<Field>& fields) {
  std::string best;
  size_t best_d = 4;  // suggest only near misses
  for (const Field& f : fields) {
    const size_t d = edit_distance(key, f.key);
    if (d < best_d) best_d = d, best = f.key;
  }
  SIMCLR_THROW(source, ": unknown key '", key, "'",
               best.empty() ? std::string(" (docs/config.md lists every key)")
                            : " (did you mean '" + best + "'?)");
}

// Walks a JSON object, reading each leaf into the field with its dotted path.
void apply_object(const json& object, const std::string& prefix, const std::string& source,
                  const std::map<std::string, const Field*>& by_key,
                  const std::vector<Field>& fields) {
  for (const auto& [name, value] : object.items()) {
    const std::string key = prefix.empty() ? name : prefix + "." + name;
    const auto it = by_key.find(key);
    if (it != by_key.end()) {
      it->second->read(value, source);
      continue;
    }
    const bool is_section = std::any_of(fields.begin(), fields.end(), [&](const Field& f) {
      return f.key.rfind(key + ".", 0) == 0;
    });
    if (!is_section) unknown_key(source, key, fields);
    if (!value.is_object()) type_error(source, key, "an object (a section of keys)", value);
    apply_object(value, key, source, by_key, fields);
  }
}

}  // namespace

Device resolve_device(const std::string& device) {
  if (device == "cpu") return Device::cpu();
  if (device == "cuda") {
    SIMCLR_CHECK(cuda_available(),
                 "train.device is 'cuda' but no GPU is usable: ", cuda_unavailable_reason());
    return Device::cuda(0);
  }
  SIMCLR_CHECK(device == "auto", "train.device: expected auto, cpu or cuda, got '", device, "'");
  return cuda_available() ? Device::cuda(0) : Device::cpu();
}

void apply_json(Config& config, const json& j, const std::string& source) {
  SIMCLR_CHECK(j.is_object(), source, ": expected a JSON object at the top, got ", kind_of(j));
  const FieldList list = fields_of(config);
  std::map<std::string, const Field*> by_key;
  for (const Field& f : list.fields()) by_key[f.key] = &f;
  apply_object(j, "", source, by_key, list.fields());
}

void apply_file(Config& config, const std::string& path) {
  std::ifstream in(path);
  SIMCLR_CHECK(in.good(), "config file ", path, ": cannot be opened");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    SIMCLR_THROW("config file ", path, ": not valid JSON: ", e.what());
  }
  apply_json(config, j, "config file " + path);
}

void apply_override(Config& config, const std::string& assignment) {
  const std::string source = "override '" + assignment + "'";
  const size_t eq = assignment.find('=');
  SIMCLR_CHECK(eq != std::string::npos && eq > 0, source, ": expected key=value");
  const std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) value = text;  // plain text for string keys
  FieldList list = fields_of(config);
  for (const Field& f : list.fields()) {
    if (f.key != key) continue;
    // A string key takes the text as written, even when it would parse as JSON ("18").
    if (f.write().is_string() && !value.is_string()) value = text;
    f.read(value, source);
    return;
  }
  unknown_key(source, key, list.fields());
}

json to_json(const Config& config) {
  Config copy = config;
  const FieldList list = fields_of(copy);
  json j = json::object();
  for (const Field& f : list.fields()) {
    std::string pointer = "/" + f.key;
    std::replace(pointer.begin(), pointer.end(), '.', '/');
    j[json::json_pointer(pointer)] = f.write();
  }
  return j;
}

std::vector<ConfigKeyDoc> config_docs() {
  Config cpu = default_config(Device::cpu()), gpu = default_config(Device::cuda(0));
  const FieldList lc = fields_of(cpu), lg = fields_of(gpu);
  std::vector<ConfigKeyDoc> out;
  for (size_t i = 0; i < lc.fields().size(); ++i)
    out.push_back({lc.fields()[i].key, lc.fields()[i].doc, lc.fields()[i].write().dump(),
                   lg.fields()[i].write().dump()});
  return out;
}

Config load_config(const std::string& file, const std::vector<std::string>& overrides,
                   Device* device) {
  // train.device decides the defaults, so find it first: the last override naming it, else the
  // file's value, else auto.
  Config probe;
  if (!file.empty()) apply_file(probe, file);
  for (const std::string& o : overrides) apply_override(probe, o);
  const Device d = resolve_device(probe.train.device);
  Config config = default_config(d);
  if (!file.empty()) apply_file(config, file);
  for (const std::string& o : overrides) apply_override(config, o);
  validate(config);
  if (device) *device = d;
  return config;
}

}  // namespace simclr
