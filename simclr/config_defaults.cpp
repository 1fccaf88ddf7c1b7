// The default runs on each device, and the range checks every config passes before a run starts.
#include <set>

#include "core/error.h"
#include "simclr/config.h"

namespace simclr {

Config default_config(Device device) {
  Config c;
  c.augment.out_h = c.augment.out_w = 0;  // the data set's image size
  // 28-32 px images: no blur (the paper blurs ImageNet-size images only) and the paper's CIFAR
  // jitter strength.
  c.augment.blur = false;
  c.augment.strength = 0.5f;
  if (device.is_cuda()) return c;
  // The CPU default: about 12 minutes on two cores, evaluation included (docs/benchmarks.md has the
  // measurements that chose these values).
  c.model.width = 16;
  c.train.batch_size = 256;
  c.train.epochs = 3;
  c.optimizer.name = "adamw";
  c.schedule.lr = 1e-3;
  c.schedule.lr_scaling = "none";
  c.schedule.warmup_epochs = 0;
  c.schedule.final_lr_fraction = 1.0;  // constant: three epochs are too few to decay over
  c.augment.scale_min = 0.2f;          // 28 px images lose too much at 0.08
  return c;
}

namespace {

void check_in(const std::string& key, const std::string& value,
              const std::set<std::string>& allowed) {
  if (allowed.count(value)) return;
  std::string list;
  for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
  SIMCLR_THROW("config: ", key, " must be one of ", list, "; got '", value, "'");
}

template <typename T>
void check_range(const std::string& key, T value, T low, T high, const char* expected) {
  SIMCLR_CHECK(low <= value && value <= high, "config: ", key, " must be ", expected, ", got ",
               value);
}

constexpr double kInf = 1e300;

void validate_data_model(const Config& c) {
  check_in("data.dataset", c.data.dataset, {"fashion-mnist", "cifar10", "cifar100", "folder"});
  check_range<int64_t>("data.image_size", c.data.image_size, 1, 4096, "in [1, 4096]");
  SIMCLR_CHECK(c.data.channels == 1 || c.data.channels == 3,
               "config: data.channels must be 1 or 3, got ", c.data.channels);
  check_range<int>("data.threads", c.data.threads, 0, 4096, ">= 0");
  SIMCLR_CHECK(c.model.depth == 18 || c.model.depth == 34 || c.model.depth == 50,
               "config: model.depth must be 18, 34 or 50, got ", c.model.depth);
  check_range<int64_t>("model.width", c.model.width, 1, 1 << 16, ">= 1");
  check_range<int>("model.head_layers", c.model.head_layers, 1, 16, "in [1, 16]");
  check_range<int64_t>("model.head_hidden", c.model.head_hidden, 0, 1 << 20, ">= 0");
  check_range<int64_t>("model.out_dim", c.model.out_dim, 1, 1 << 20, ">= 1");
}

void validate_augment(const AugmentPolicy& a) {
  check_range<int32_t>("augment.size", a.out_h, 0, 4096, "in [0, 4096]");
  check_range<double>("augment.scale_min", a.scale_min, 1e-6, 1, "in (0, 1]");
  check_range<double>("augment.scale_max", a.scale_max, a.scale_min, 1,
                      "in [augment.scale_min, 1]");
  check_range<double>("augment.ratio_min", a.ratio_min, 1e-6, kInf, "> 0");
  check_range<double>("augment.ratio_max", a.ratio_max, a.ratio_min, kInf, ">= augment.ratio_min");
  for (const auto& [key, p] : {std::pair{"augment.flip_p", a.flip_p},
                               {"augment.jitter_p", a.jitter_p},
                               {"augment.grayscale_p", a.grayscale_p},
                               {"augment.blur_p", a.blur_p}})
    check_range<double>(key, p, 0, 1, "a probability in [0, 1]");
  check_range<double>("augment.strength", a.strength, 0, kInf, ">= 0");
  check_range<double>("augment.sigma_min", a.sigma_min, 1e-6, kInf, "> 0");
  check_range<double>("augment.sigma_max", a.sigma_max, a.sigma_min, kInf, ">= augment.sigma_min");
  SIMCLR_CHECK(
      a.blur_kernel == 0 || (a.blur_kernel % 2 == 1 && a.blur_kernel <= kAugmentMaxBlurKernel),
      "config: augment.blur_kernel must be 0 or odd and at most ", kAugmentMaxBlurKernel, ", got ",
      a.blur_kernel);
  for (int ch = 0; ch < 3; ++ch)
    SIMCLR_CHECK(a.std[ch] > 0, "config: augment.std must be positive, got ", a.std[ch],
                 " for channel ", ch);
}

void validate_train(const Config& c) {
  check_in("train.dtype", c.train.dtype, {"auto", "f32", "bf16"});
  check_range<int64_t>("train.batch_size", c.train.batch_size, 2, int64_t{1} << 30, ">= 2");
  check_range<int64_t>("train.epochs", c.train.epochs, 1, int64_t{1} << 30, ">= 1");
  check_range<double>("train.time_budget_s", c.train.time_budget_s, 0, kInf, ">= 0");
  check_range<int64_t>("train.max_steps", c.train.max_steps, 0, int64_t{1} << 40, ">= 0");
  check_range<double>("train.temperature", c.train.temperature, 1e-6, kInf, "> 0");
  check_range<int64_t>("train.log_every", c.train.log_every, 1, int64_t{1} << 30, ">= 1");
  check_in("optimizer.name", c.optimizer.name, {"lars", "sgd", "adamw"});
  check_range<double>("optimizer.momentum", c.optimizer.momentum, 0, 1, "in [0, 1]");
  check_range<double>("optimizer.weight_decay", c.optimizer.weight_decay, 0, kInf, ">= 0");
  check_range<double>("optimizer.trust_coefficient", c.optimizer.trust_coefficient, 0, kInf,
                      ">= 0");
  check_range<double>("optimizer.beta1", c.optimizer.beta1, 0, 1, "in [0, 1)");
  check_range<double>("optimizer.beta2", c.optimizer.beta2, 0, 1, "in [0, 1)");
  check_range<double>("optimizer.eps", c.optimizer.eps, 0, kInf, ">= 0");
  check_range<double>("schedule.lr", c.schedule.lr, 1e-300, kInf, "> 0");
  check_in("schedule.lr_scaling", c.schedule.lr_scaling, {"linear", "sqrt", "none"});
  check_range<double>("schedule.warmup_epochs", c.schedule.warmup_epochs, 0,
                      static_cast<double>(c.train.epochs), "in [0, train.epochs]");
  check_range<double>("schedule.final_lr_fraction", c.schedule.final_lr_fraction, 0, 1,
                      "in [0, 1]");
}

void validate_eval_output(const Config& c) {
  check_range<int64_t>("eval.knn_k", c.eval.knn_k, 1, int64_t{1} << 30, ">= 1");
  check_range<double>("eval.knn_temperature", c.eval.knn_temperature, 1e-6, kInf, "> 0");
  check_range<int64_t>("eval.probe_epochs", c.eval.probe_epochs, 0, 1 << 20, ">= 0");
  check_range<double>("eval.probe_lr", c.eval.probe_lr, 1e-300, kInf, "> 0");
  check_range<int64_t>("eval.probe_batch_size", c.eval.probe_batch_size, 1, int64_t{1} << 30,
                       ">= 1");
  check_range<int64_t>("eval.batch_size", c.eval.batch_size, 1, int64_t{1} << 30, ">= 1");
  SIMCLR_CHECK(!c.output.dir.empty(), "config: output.dir must not be empty");
  check_range<double>("dist.bucket_mb", c.dist.bucket_mb, 1e-3, kInf, "> 0");
}

}  // namespace

void validate(const Config& c) {
  validate_data_model(c);
  validate_augment(c.augment);
  validate_train(c);
  validate_eval_output(c);
}

}  // namespace simclr
