// The trainer's set-up and training loop (DESIGN.md, "One training step"). Checkpoints, metrics
// and evaluation: trainer_io.cpp.
#include <atomic>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <sstream>

#include "core/cuda_device.h"
#include "core/determinism.h"
#include "core/error.h"
#include "core/file_io.h"
#include "dist/all_gather.h"
#include "kernels/augment.h"
#include "kernels/ops.h"
#include "simclr/loss.h"
#include "simclr/pretrained.h"
#include "simclr/trainer_state.h"

namespace simclr {

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) {
  g_stop.store(true);
}

void load_data(Trainer::State& s) {
  const DataConfig& d = s.config.data;
  s.train = load_dataset(d, Split::train);
  if (has_test_split(d)) s.test = load_dataset(d, Split::test);
  s.train_images = s.train.images;
  if (s.device.is_cuda() && d.on_device) {
    // Resident when it takes at most a quarter of the free memory; otherwise each step uploads
    // its batch.
    size_t free_bytes = 0, total_bytes = 0;
    cuda_mem_info(s.device.index, &free_bytes, &total_bytes);
    const size_t bytes = static_cast<size_t>(s.train.images.numel());
    if (bytes <= free_bytes / 4) {
      s.train_images = to(s.train.images, s.device);
    } else {
      s.print("data.on_device: the training set (" + std::to_string(bytes >> 20) +
              " MiB) stays on the host: more than a quarter of the GPU's free memory");
    }
  }
  s.policy = resolve_policy(s.config, s.train);
}

void make_model_and_optimizer(Trainer::State& s) {
  s.model = build_model(s.config, s.train.channels());
  s.model->to(s.device);
  if (s.config.dist.sync_bn) {
    ProcessGroup& group = s.group;
    enable_sync_batch_norm(*s.model,
                           [&group](const Tensor& t) { return all_reduce_with_grad(group, t); });
  }
  s.optimizer = make_optimizer(s.config.optimizer, s.model->named_parameters());
  if (s.group.world_size() > 1)
    s.bucketer = std::make_unique<GradBucketer>(
        s.group, s.model->parameters(),
        static_cast<size_t>(s.config.dist.bucket_mb * 1024.0 * 1024.0));
}

void plan_steps(Trainer::State& s) {
  const TrainConfig& t = s.config.train;
  const int world = s.group.world_size();
  SIMCLR_CHECK(t.batch_size % world == 0, "config: train.batch_size (", t.batch_size,
               ") must be a multiple of the number of processes (", world, ")");
  s.local_batch = t.batch_size / world;
  s.sampler = std::make_unique<DistributedSampler>(s.train.size(), world, s.group.rank(), t.seed,
                                                   /*shuffle=*/true, /*drop_last=*/true);
  s.steps_per_epoch = s.sampler->num_samples() / s.local_batch;
  SIMCLR_CHECK(s.steps_per_epoch > 0, "config: train.batch_size (", t.batch_size,
               ") is larger than the training set (", s.train.size(), " images in ",
               s.config.data.path, ")");
  s.total_steps = s.steps_per_epoch * t.epochs;
  s.schedule.base_lr = s.config.schedule.lr;
  s.schedule.scaling = s.config.schedule.lr_scaling;
  s.schedule.batch_size = t.batch_size;
  s.schedule.warmup_steps =
      std::llround(s.config.schedule.warmup_epochs * static_cast<double>(s.steps_per_epoch));
  s.schedule.total_steps = s.total_steps;
  s.schedule.final_lr_fraction = s.config.schedule.final_lr_fraction;
}

// One step: the batch's images gathered from the resident data set, two augmented views each,
// forward, the loss over the global batch, backward, gradient averaging, the update. The loss is
// copied into the window buffer; the host never waits here.
void train_step(Trainer::State& s, const std::vector<int64_t>& indices, int64_t epoch) {
  const Tensor idx = from_vector(indices, Shape{static_cast<int64_t>(indices.size())});
  const Tensor images = index_select(s.train_images, idx);
  const Tensor views = augment(to(images, s.device), to(idx, s.device), s.policy,
                               s.config.train.seed, static_cast<uint64_t>(epoch), s.dtype);
  const Tensor z = s.model->forward(views);
  const double tau = s.config.train.temperature;
  Tensor reported;
  if (s.group.world_size() == 1) {
    const Tensor loss = simclr_loss(z, tau);
    loss.backward();
    reported = loss;
  } else {
    const DistributedNtXent loss = distributed_nt_xent(s.group, z, tau);
    loss.loss.backward();
    reported = loss.global_loss;
    s.bucketer->all_reduce_average();
  }
  s.optimizer->step(learning_rate(s.schedule, s.step));
  s.model->zero_grad();
  NoGradGuard no_grad;
  Tensor slot = slice(s.loss_window, 0, s.window_fill, s.window_fill + 1);
  copy_(slot, reshape(to(reported, DType::f32), Shape{1}));
  ++s.window_fill;
  ++s.step;
  ++s.steps_this_process;
}

// Reads the window's losses (one host wait), appends them and logs their mean. Returns false,
// after reporting the step, when one of them is NaN or Inf.
bool flush_window(Trainer::State& s, int64_t epoch) {
  if (s.window_fill == 0) return true;
  const std::vector<float> w = to_vector<float>(to(s.loss_window, Device::cpu()));
  const int64_t first = s.step - s.window_fill;
  double total = 0;
  for (int64_t i = 0; i < s.window_fill; ++i) {
    const float v = w[static_cast<size_t>(i)];
    if (!std::isfinite(v)) {
      s.print("error: the loss is " + std::string(std::isnan(v) ? "NaN" : "Inf") + " at step " +
              std::to_string(first + i + 1) + " (epoch " + std::to_string(epoch + 1) +
              "); training stops. " +
              (s.last_good_checkpoint_step >= 0
                   ? "The last good checkpoint (step " +
                         std::to_string(s.last_good_checkpoint_step) + ") is " +
                         s.path("checkpoint.safetensors")
                   : std::string("No checkpoint was written before it.")));
      s.window_fill = 0;
      return false;
    }
    s.losses.push_back(v);
    total += v;
  }
  const double now = s.elapsed_s();
  const std::chrono::duration<double> span = std::chrono::steady_clock::now() - s.window_start;
  const double images_per_s =
      static_cast<double>((s.step - s.window_start_step) * s.config.train.batch_size) /
      std::max(span.count(), 1e-9);
  const double loss = total / static_cast<double>(s.window_fill);
  const double lr = learning_rate(s.schedule, s.step - 1);
  s.window_fill = 0;
  s.window_start = std::chrono::steady_clock::now();
  s.window_start_step = s.step;
  if (!s.leader) return true;
  s.progress->update({epoch, s.config.train.epochs, (s.step - 1) % s.steps_per_epoch + 1,
                      s.steps_per_epoch, s.step, s.total_steps, loss, lr, images_per_s, now});
  s.write_metrics({{"event", "step"},
                   {"epoch", epoch + 1},
                   {"step", s.step},
                   {"loss", loss},
                   {"lr", lr},
                   {"images_per_s", images_per_s},
                   {"elapsed_s", now}});
  return true;
}

// Why training must stop before the next step ("" to go on). Every rank gets the same answer:
// a signal or the clock of any rank stops all of them.
std::string stop_reason(Trainer::State& s) {
  const TrainConfig& t = s.config.train;
  std::string reason;
  if (stop_requested()) {
    reason = "signal";
  } else if (t.max_steps > 0 && s.steps_this_process >= t.max_steps) {
    reason = "max steps";
  } else if (t.time_budget_s > 0 && s.elapsed_s() >= t.time_budget_s) {
    reason = "time budget";
  }
  if (s.group.world_size() == 1) return reason;
  for (const std::string& r : s.group.all_gather_strings(reason))
    if (!r.empty()) return r;
  return "";
}

void print_banner(Trainer::State& s) {
  const Config& c = s.config;
  std::ostringstream o;
  o << "simclr_train: " << c.data.dataset << ", " << s.train.size() << " training images"
    << (s.test ? ", " + std::to_string(s.test->size()) + " test" : std::string(", no test split"))
    << ", " << s.train.height() << "x" << s.train.width() << "x" << s.train.channels() << " -> "
    << s.policy.out_h << "x" << s.policy.out_w << "\n  model: ResNet-" << c.model.depth << " width "
    << c.model.width << (c.model.small_stem ? " (small stem)" : "") << ", "
    << s.model->parameter_count() << " parameters, head of " << c.model.head_layers << " layers -> "
    << c.model.out_dim << "\n  global batch " << c.train.batch_size << " = " << s.group.world_size()
    << " process(es) x " << s.local_batch << " (" << s.group.backend() << "), " << c.train.epochs
    << " epochs x " << s.steps_per_epoch << " steps, on " << s.device.str() << " in "
    << dtype_name(s.dtype) << "\n  optimizer " << c.optimizer.name << ", peak learning rate "
    << peak_learning_rate(s.schedule) << ", temperature " << c.train.temperature << "; outputs in "
    << c.output.dir;
  s.print(o.str());
}

}  // namespace

Trainer::State::~State() {
  if (metrics) std::fclose(metrics);
}

std::string Trainer::State::path(const std::string& name) const {
  return (std::filesystem::path(config.output.dir) / name).string();
}

double Trainer::State::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void Trainer::State::print(const std::string& line) {
  if (leader) progress->message(line);
}

void Trainer::State::write_metrics(const nlohmann::json& line) {
  if (!leader) return;
  std::fprintf(metrics, "%s\n", line.dump().c_str());
  std::fflush(metrics);
}

Trainer::Trainer(const Config& config, Device device, ProcessGroup& group, bool resume)
    : s_(std::make_unique<State>(config, device, group)) {
  State& s = *s_;
  s.leader = group.rank() == 0;
  check_same_config(group, to_json(config).dump());
  set_deterministic(config.train.deterministic);
  s.dtype = resolve_dtype(config, device);
  if (s.leader) {
    std::filesystem::create_directories(config.output.dir);
    s.progress = std::make_unique<Progress>();
  }
  load_data(s);
  make_model_and_optimizer(s);
  plan_steps(s);
  s.loss_window = zeros({config.train.log_every}, DType::f32, device);
  print_banner(s);
  if (resume) s.restore();
  if (s.leader) {
    const std::string text = to_json(config).dump(2) + "\n";
    write_file_atomic(s.path("config.json"), text.data(), text.size());
    s.metrics = std::fopen(s.path("metrics.jsonl").c_str(), resume ? "a" : "w");
    SIMCLR_CHECK(s.metrics, "cannot write ", s.path("metrics.jsonl"));
  }
}

Trainer::~Trainer() = default;

const std::vector<float>& Trainer::step_losses() const {
  return s_->losses;
}

TrainSummary Trainer::fit() {
  State& s = *s_;
  TrainSummary summary;
  s.start = s.window_start = std::chrono::steady_clock::now();
  s.window_start_step = s.step;
  s.write_metrics({{"event", "start"},
                   {"step", s.step},
                   {"world_size", s.group.world_size()},
                   {"global_batch", s.config.train.batch_size},
                   {"device", s.device.str()}});
  const TrainConfig& t = s.config.train;
  bool finite = true;
  while (s.step < s.total_steps && summary.stop_reason.empty()) {
    const int64_t epoch = s.step / s.steps_per_epoch;
    const int64_t epoch_first_step = s.step;
    const size_t epoch_first_loss = s.losses.size();
    s.sampler->set_epoch(epoch);
    const std::vector<int64_t> order = s.sampler->indices();
    for (int64_t i = s.step % s.steps_per_epoch; i < s.steps_per_epoch; ++i) {
      summary.stop_reason = stop_reason(s);
      if (!summary.stop_reason.empty()) break;
      const auto first = order.begin() + i * s.local_batch;
      train_step(s, std::vector<int64_t>(first, first + s.local_batch), epoch);
      if (s.window_fill == t.log_every && !(finite = flush_window(s, epoch))) break;
    }
    if (finite) finite = flush_window(s, epoch);
    if (!finite) {
      summary.stop_reason = "non-finite loss";
      break;
    }
    const bool epoch_done = s.step > epoch_first_step && s.step % s.steps_per_epoch == 0;
    if (epoch_done) {
      const double knn = s.config.eval.knn_every_epoch ? s.knn_monitor() : -1;
      double total = 0;
      for (size_t i = epoch_first_loss; i < s.losses.size(); ++i) total += s.losses[i];
      const double mean_loss = total / static_cast<double>(s.losses.size() - epoch_first_loss);
      s.write_metrics({{"event", "epoch"},
                       {"epoch", epoch + 1},
                       {"step", s.step},
                       {"loss", mean_loss},
                       {"knn_acc", knn},
                       {"elapsed_s", s.elapsed_s()}});
    }
    if ((epoch_done && s.config.output.checkpoint_every_epoch) || !summary.stop_reason.empty())
      s.save(summary.stop_reason.empty() ? "epoch " + std::to_string(epoch + 1)
                                         : summary.stop_reason);
    s.window_start = std::chrono::steady_clock::now();  // images/s counts training time only
  }
  if (summary.stop_reason.empty()) summary.stop_reason = "done";
  summary.steps = s.step;
  summary.epochs_done = s.step / s.steps_per_epoch;
  summary.loss = s.losses.empty() ? 0.0 : s.losses.back();
  summary.train_seconds = s.elapsed_s();
  summary.images_per_s = static_cast<double>(s.steps_this_process * t.batch_size) /
                         std::max(summary.train_seconds, 1e-9);
  if (s.leader) s.progress->finish();
  // A signal or a non-finite loss ends the process; a finished run or a budget is evaluated.
  if (summary.stop_reason != "signal" && summary.stop_reason != "non-finite loss")
    s.final_evaluation(summary);
  return summary;
}

void install_stop_signals() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;  // a second signal ends the process as usual
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool stop_requested() {
  return g_stop.load();
}

void request_stop(bool on) {
  g_stop.store(on);
}

}  // namespace simclr
