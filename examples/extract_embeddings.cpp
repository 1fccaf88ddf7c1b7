// extract_embeddings: a checkpoint's encoder features of both splits of its data set (or of the
// data set the overrides name), as NumPy files: {train,test}_embeddings.npy (float32 [n, d]) and
// {train,test}_labels.npy (int64 [n]), loadable with numpy.load.
#include <filesystem>

#include "core/npy.h"
#include "example_util.h"
#include "kernels/cpu_blas.h"
#include "kernels/ops.h"

int main(int argc, char** argv) {
  simclr::use_best_cpu_blas_kernels(argv);
  return simclr::examples::run(
      argc, argv,
      "usage: extract_embeddings CHECKPOINT OUT_DIR [key=value ...]\n"
      "  e.g. extract_embeddings runs/simclr/checkpoint.safetensors embeddings\n",
      [](const std::vector<std::string>& args) {
        SIMCLR_CHECK(args.size() >= 2, "expected CHECKPOINT OUT_DIR [key=value ...]");
        std::vector<std::string> rest{args[0]};
        rest.insert(rest.end(), args.begin() + 2, args.end());
        const auto f = simclr::examples::load_features(rest);
        const std::filesystem::path out = args[1];
        std::filesystem::create_directories(out);
        const simclr::Device cpu = simclr::Device::cpu();
        simclr::save_npy((out / "train_embeddings.npy").string(), simclr::to(f.train, cpu));
        simclr::save_npy((out / "train_labels.npy").string(), f.train_data.labels);
        simclr::save_npy((out / "test_embeddings.npy").string(), simclr::to(f.test, cpu));
        simclr::save_npy((out / "test_labels.npy").string(), f.test_data.labels);
        std::printf("wrote %lld + %lld embeddings of %lld dimensions to %s\n",
                    static_cast<long long>(f.train.size(0)), static_cast<long long>(f.test.size(0)),
                    static_cast<long long>(f.train.size(1)), out.string().c_str());
        return 0;
      });
}
