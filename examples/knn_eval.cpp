// knn_eval: the kNN accuracy (cosine, k = eval.knn_k, votes exp(s / eval.knn_temperature)) of a
// checkpoint's encoder on the test split, or of raw pixels with --raw (the baseline).
#include "example_util.h"
#include "kernels/cpu_blas.h"

int main(int argc, char** argv) {
  simclr::use_best_cpu_blas_kernels(argv);
  return simclr::examples::run(
      argc, argv,
      "usage: knn_eval CHECKPOINT|--raw [key=value ...]\n"
      "  e.g. knn_eval runs/simclr/checkpoint.safetensors eval.knn_k=20\n",
      [](const std::vector<std::string>& args) {
        const auto f = simclr::examples::load_features(args);
        const double acc = simclr::knn_accuracy(f.train, f.train_data.labels, f.test,
                                                f.test_data.labels, f.train_data.num_classes,
                                                f.config.eval.knn_k, f.config.eval.knn_temperature);
        std::printf("kNN top-1 (k=%lld, T=%g) on %s test: %.4f\n",
                    static_cast<long long>(f.config.eval.knn_k), f.config.eval.knn_temperature,
                    f.config.data.dataset.c_str(), acc);
        return 0;
      });
}
