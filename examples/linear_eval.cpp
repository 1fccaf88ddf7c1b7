// linear_eval: a linear probe (logistic regression on standardized frozen features, AdamW,
// eval.probe_* settings) of a checkpoint's encoder, or of raw pixels with --raw (the baseline).
#include "example_util.h"
#include "kernels/cpu_blas.h"

int main(int argc, char** argv) {
  simclr::use_best_cpu_blas_kernels(argv);
  return simclr::examples::run(
      argc, argv,
      "usage: linear_eval CHECKPOINT|--raw [key=value ...]\n"
      "  e.g. linear_eval runs/simclr/checkpoint.safetensors eval.probe_epochs=100\n",
      [](const std::vector<std::string>& args) {
        const auto f = simclr::examples::load_features(args);
        simclr::ProbeConfig pc;
        pc.epochs = f.config.eval.probe_epochs;
        pc.lr = f.config.eval.probe_lr;
        pc.batch_size = f.config.eval.probe_batch_size;
        pc.seed = f.config.train.seed;
        const simclr::ProbeResult r = simclr::linear_probe(
            f.train, f.train_data.labels, f.test, f.test_data.labels, f.train_data.num_classes, pc);
        std::printf("linear probe on %s: train top-1 %.4f, test top-1 %.4f\n",
                    f.config.data.dataset.c_str(), r.train_accuracy, r.test_accuracy);
        return 0;
      });
}
