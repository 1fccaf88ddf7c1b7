// simclr_train: trains a SimCLR encoder. With no arguments, on Fashion-MNIST with the default for
// the device (docs/config.md); `mpirun -np K simclr_train ...` trains on K processes.
//
//   simclr_train [--config FILE] [--resume] [key=value ...]
//   simclr_train --print-config [--config FILE] [key=value ...]   the effective config, as JSON
//   simclr_train --config-docs                                    docs/config.md's key table
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/cpu_blas.h"
#include "simclr/config.h"
#include "simclr/trainer.h"

namespace {

using namespace simclr;

constexpr const char* kUsage =
    "usage: simclr_train [--config FILE] [--resume] [--print-config] [key=value ...]\n"
    "       simclr_train --config-docs\n"
    "Trains SimCLR; every key and its default is in docs/config.md (e.g. train.batch_size=512,\n"
    "model.depth=50, data.dataset=cifar10 data.path=DIR). --resume continues the run whose\n"
    "checkpoint is in output.dir. Multi-process: mpirun -np K simclr_train ...\n";

struct Args {
  std::string config_file;
  std::vector<std::string> overrides;
  bool resume = false, print_config = false, config_docs = false, help = false;
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--config") {
      SIMCLR_CHECK(i + 1 < argc, "command line: --config needs a file name");
      a.config_file = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      a.config_file = arg.substr(9);
    } else if (arg == "--resume") {
      a.resume = true;
    } else if (arg == "--print-config") {
      a.print_config = true;
    } else if (arg == "--config-docs") {
      a.config_docs = true;
    } else if (arg == "--help" || arg == "-h") {
      a.help = true;
    } else if (arg.find('=') != std::string::npos && arg[0] != '-') {
      a.overrides.push_back(arg);
    } else {
      SIMCLR_THROW("command line: unknown argument '", arg,
                   "' (expected --config FILE, --resume, --print-config, --config-docs or "
                   "key=value)");
    }
  }
  return a;
}

void print_config_docs() {
  std::printf("| key | CPU default | GPU default | meaning |\n|---|---|---|---|\n");
  for (const ConfigKeyDoc& d : config_docs())
    std::printf("| `%s` | `%s` | `%s` | %s |\n", d.key.c_str(), d.cpu_default.c_str(),
                d.gpu_default.c_str(), d.doc.c_str());
}

void print_result(const Config& config, const TrainSummary& s) {
  const bool fmnist = config.data.dataset == "fashion-mnist";
  auto acc = [](double a) { return a < 0 ? std::string("not evaluated") : std::to_string(a); };
  std::printf("\nsimclr_train: %s after %lld steps (%lld epochs), %.1f s, %.1f images/s\n",
              s.stop_reason.c_str(), static_cast<long long>(s.steps),
              static_cast<long long>(s.epochs_done), s.train_seconds, s.images_per_s);
  std::printf("  test top-1      encoder         raw pixels%s\n",
              fmnist ? " (tools/fmnist_baselines.py)" : "");
  std::printf("  kNN (k=%lld)     %-15s %s\n", static_cast<long long>(config.eval.knn_k),
              acc(s.knn_accuracy).c_str(), fmnist ? "0.7885" : "-");
  std::printf("  linear probe    %-15s %s\n", acc(s.probe_accuracy).c_str(),
              fmnist ? "0.842" : "-");
  std::printf("  outputs: %s\n", config.output.dir.c_str());
}

int train(const Args& args) {
  Device device;
  const Config config = load_config(args.config_file, args.overrides, &device);
  if (args.print_config) {
    std::printf("%s\n", to_json(config).dump(2).c_str());
    return 0;
  }
  auto group = init_distributed(device.type);
  if (device.is_cuda()) device = group->device();
  install_stop_signals();
  TrainSummary summary;
  {
    Trainer trainer(config, device, *group, args.resume);
    try {
      summary = trainer.fit();
    } catch (const Error& e) {
      if (std::strstr(e.what(), "CUDA out of memory") == nullptr) throw;
      SIMCLR_THROW(e.what(),
                   "\nThe batch does not fit: try train.batch_size=", config.train.batch_size / 2,
                   " (or model.width / model.depth smaller)");
    }
  }
  if (group->rank() == 0) print_result(config, summary);
  group.reset();
  finalize_distributed();
  return summary.stop_reason == "non-finite loss" ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  use_best_cpu_blas_kernels(argv);
  Args args;
  try {
    args = parse_args(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "simclr_train: %s\n%s", e.what(), kUsage);
    return 2;
  }
  if (args.help) {
    std::printf("%s", kUsage);
    return 0;
  }
  if (args.config_docs) {
    print_config_docs();
    return 0;
  }
  return run_main([&] { return train(args); });
}
