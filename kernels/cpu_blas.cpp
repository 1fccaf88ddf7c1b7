#include "kernels/cpu_blas.h"

#include <cblas.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string_view>

#include "kernels/cpu/parallel.h"

namespace simclr {

namespace {

// The cores OpenBLAS falls back to when it does not know the CPU model: none has AVX2 kernels.
bool is_fallback_core(std::string_view core) {
  for (std::string_view old : {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem",
                               "Sandybridge", "Atom", "Katmai", "Unknown"}) {
    if (core.size() == old.size() &&
        std::equal(core.begin(), core.end(), old.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
      return true;
  }
  return false;
}

const char* best_core() {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return nullptr;
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  return avx512 ? "SkylakeX" : "Haswell";
}

}  // namespace

void use_best_cpu_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") || std::getenv("SIMCLR_BLAS_RESTARTED")) return;
  const char* core = best_core();
  if (!core || !is_fallback_core(openblas_get_corename())) return;
  setenv("OPENBLAS_CORETYPE", core, 1);
  setenv("SIMCLR_BLAS_RESTARTED", "1", 1);  // never loop, whatever OpenBLAS makes of it
  execv("/proc/self/exe", argv);
  // exec failed: carry on with the slow kernels rather than not at all.
}

std::string cpu_blas_description() {
  std::string config = openblas_get_config();
  while (!config.empty() && config.back() == ' ') config.pop_back();
  const int threads = cpu::num_threads();  // creates the pool, which sets OpenBLAS's threads
  return config + ", kernels " + openblas_get_corename() + ", " +
         std::to_string(openblas_get_num_threads()) + " thread per call from " +
         std::to_string(threads) + " CPU kernel threads";
}

}  // namespace simclr
