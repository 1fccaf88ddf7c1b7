// kNN and linear-probe evaluation. The similarity products and the probe run on the features'
// device; the top-k selection and the votes run on the host, one chunk of test rows at a time.
#include "simclr/evaluation.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "dist/sampler.h"
#include "kernels/augment.h"
#include "kernels/nt_xent.h"
#include "kernels/ops.h"
#include "layers/linear.h"
#include "simclr/optimizer.h"

namespace simclr {

namespace {

// Restores a module's train/eval mode when the scope ends.
class EvalMode {
 public:
  explicit EvalMode(Module& m) : module_(m), was_training_(m.is_training()) { m.eval(); }
  ~EvalMode() { module_.train(was_training_); }
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  Module& module_;
  bool was_training_;
};

// The evaluation view: the policy's output size and normalization, no random step.
AugmentPolicy eval_policy(const AugmentPolicy& train) {
  AugmentPolicy p = train;
  p.crop = p.flip = p.jitter = p.grayscale = p.blur = false;
  return p;
}

std::vector<int64_t> labels_on_host(const Tensor& labels, int64_t n, const char* what) {
  SIMCLR_CHECK(labels.dtype() == DType::i64 && labels.ndim() == 1 && labels.size(0) == n, what,
               ": expected int64 labels [", n, "], got ", labels.str());
  return to_vector<int64_t>(to(labels, Device::cpu()));
}

int64_t argmax(const float* v, int64_t n) {
  return std::max_element(v, v + n) - v;
}

}  // namespace

Tensor extract_features(ResNet& encoder, const Tensor& images_u8, const AugmentPolicy& policy,
                        DType dtype, Device device, int64_t batch_size) {
  SIMCLR_CHECK(images_u8.dtype() == DType::u8 && images_u8.ndim() == 4,
               "extract_features: expected uint8 images [n, h, w, c], got ", images_u8.str());
  SIMCLR_CHECK(batch_size > 0, "extract_features: expected a positive batch size, got ",
               batch_size);
  NoGradGuard no_grad;
  EvalMode eval(encoder);
  const AugmentPolicy p = eval_policy(policy);
  const int64_t n = images_u8.size(0);
  Tensor out = Tensor::empty({n, encoder.feature_dim()}, DType::f32, device);
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t end = std::min(n, start + batch_size);
    const Tensor batch = to(slice(images_u8, 0, start, end), device);
    AugmentParams identity;
    identity.crop_height = static_cast<int32_t>(batch.size(1));
    identity.crop_width = static_cast<int32_t>(batch.size(2));
    const std::vector<AugmentParams> params(static_cast<size_t>(end - start), identity);
    const Tensor views = augment_with_params(batch, params, p, dtype);
    Tensor rows = slice(out, 0, start, end);
    copy_(rows, encoder.forward(views));
  }
  return out;
}

Tensor pixel_features(const Tensor& images_u8, Device device) {
  NoGradGuard no_grad;
  SIMCLR_CHECK(images_u8.dtype() == DType::u8 && images_u8.ndim() == 4,
               "pixel_features: expected uint8 images [n, h, w, c], got ", images_u8.str());
  return to(flatten(to(images_u8, device), 1), DType::f32) * (1.0 / 255.0);
}

double knn_accuracy(const Tensor& train_features, const Tensor& train_labels,
                    const Tensor& test_features, const Tensor& test_labels, int64_t num_classes,
                    int64_t k, double temperature) {
  NoGradGuard no_grad;
  const int64_t n = train_features.size(0), m = test_features.size(0);
  SIMCLR_CHECK(n > 0 && m > 0 && k > 0 && num_classes > 0,
               "knn_accuracy: expected non-empty features, k > 0 and classes > 0; got ", n,
               " training rows, ", m, " test rows, k ", k, ", ", num_classes, " classes");
  const std::vector<int64_t> ytrain = labels_on_host(train_labels, n, "knn_accuracy (train)");
  const std::vector<int64_t> ytest = labels_on_host(test_labels, m, "knn_accuracy (test)");
  const Tensor bank = nt_xent_normalize(to(train_features, DType::f32));
  const Tensor bank_t = transpose(bank, 0, 1);
  const Tensor queries = nt_xent_normalize(to(test_features, DType::f32));
  const int64_t kk = std::min(k, n);
  constexpr int64_t kChunk = 500;
  int64_t correct = 0;
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::vector<float> votes(static_cast<size_t>(num_classes));
  for (int64_t start = 0; start < m; start += kChunk) {
    const int64_t end = std::min(m, start + kChunk);
    const Tensor sims = to(matmul(slice(queries, 0, start, end), bank_t), Device::cpu());
    const float* s = sims.data<float>();
    for (int64_t r = 0; r < end - start; ++r) {
      const float* row = s + r * n;
      std::iota(order.begin(), order.end(), int64_t{0});
      std::nth_element(order.begin(), order.begin() + (kk - 1), order.end(),
                       [&](int64_t a, int64_t b) { return row[a] > row[b]; });
      std::fill(votes.begin(), votes.end(), 0.0f);
      for (int64_t j = 0; j < kk; ++j) {
        const int64_t idx = order[static_cast<size_t>(j)];
        votes[static_cast<size_t>(ytrain[static_cast<size_t>(idx)])] +=
            std::exp(row[idx] / static_cast<float>(temperature));
      }
      correct += argmax(votes.data(), num_classes) == ytest[static_cast<size_t>(start + r)];
    }
  }
  return static_cast<double>(correct) / static_cast<double>(m);
}

namespace {

// Top-1 accuracy of `probe` on standardized features.
double probe_accuracy(Linear& probe, const Tensor& x, const std::vector<int64_t>& y,
                      int64_t num_classes) {
  NoGradGuard no_grad;
  const Tensor logits = to(probe.forward(x), Device::cpu());
  const float* l = logits.data<float>();
  int64_t correct = 0;
  for (size_t i = 0; i < y.size(); ++i)
    correct += argmax(l + static_cast<int64_t>(i) * num_classes, num_classes) == y[i];
  return static_cast<double>(correct) / static_cast<double>(y.size());
}

Tensor one_hot(const std::vector<int64_t>& labels, int64_t num_classes, Device device) {
  std::vector<float> v(labels.size() * static_cast<size_t>(num_classes), 0.0f);
  for (size_t i = 0; i < labels.size(); ++i) {
    SIMCLR_CHECK(0 <= labels[i] && labels[i] < num_classes, "linear_probe: label ", labels[i],
                 " of row ", i, " is outside [0, ", num_classes, ")");
    v[i * static_cast<size_t>(num_classes) + static_cast<size_t>(labels[i])] = 1.0f;
  }
  return to(from_vector(v, Shape{static_cast<int64_t>(labels.size()), num_classes}), device);
}

}  // namespace

ProbeResult linear_probe(const Tensor& train_features, const Tensor& train_labels,
                         const Tensor& test_features, const Tensor& test_labels,
                         int64_t num_classes, const ProbeConfig& config) {
  const int64_t n = train_features.size(0), d = train_features.size(1);
  SIMCLR_CHECK(n > 1 && config.batch_size > 0 && config.epochs >= 0,
               "linear_probe: expected at least 2 training rows and a positive batch size, got ", n,
               " rows, batch ", config.batch_size);
  const std::vector<int64_t> ytrain = labels_on_host(train_labels, n, "linear_probe (train)");
  const std::vector<int64_t> ytest =
      labels_on_host(test_labels, test_features.size(0), "linear_probe (test)");
  const Device device = train_features.device();
  Tensor a, b;
  {
    NoGradGuard no_grad;
    const Tensor x = to(train_features, DType::f32);
    const Tensor mu = mean(x, {0}, true);
    const Tensor var = mean(square(x - mu), {0}, true) * (static_cast<double>(n) / (n - 1));
    const Tensor scale = pow(sqrt(var) + 1e-6, -1.0);
    a = (x - mu) * scale;
    b = (to(test_features, DType::f32) - mu) * scale;
  }
  const Tensor targets = one_hot(ytrain, num_classes, device);
  Generator gen(config.seed);
  Linear probe(d, num_classes, /*bias=*/true, &gen);
  probe.to(device);
  OptimizerConfig oc;
  oc.name = "adamw";
  oc.weight_decay = config.weight_decay;
  auto optimizer = make_optimizer(oc, probe.named_parameters());
  DistributedSampler sampler(n, 1, 0, config.seed);
  for (int64_t epoch = 0; epoch < config.epochs; ++epoch) {
    sampler.set_epoch(epoch);
    const std::vector<int64_t> perm = sampler.indices();
    for (int64_t start = 0; start < n; start += config.batch_size) {
      const int64_t end = std::min(n, start + config.batch_size);
      const Tensor idx = from_vector(std::vector<int64_t>(perm.begin() + start, perm.begin() + end),
                                     Shape{end - start});
      const Tensor logits = probe.forward(index_select(a, idx));
      const Tensor loss =
          sum(log_softmax(logits, 1) * index_select(targets, idx)) * (-1.0 / (end - start));
      loss.backward();
      optimizer->step(config.lr);
      probe.zero_grad();
    }
  }
  return {probe_accuracy(probe, a, ytrain, num_classes),
          probe_accuracy(probe, b, ytest, num_classes)};
}

}  // namespace simclr
