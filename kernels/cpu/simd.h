// Instruction sets for the CPU kernels' hot loops. The build targets the baseline x86-64 (CI
// machines differ), so loops that gain from wider vectors are compiled twice, for AVX-512F and for
// the baseline, and the loader picks one per machine (GCC/Clang function multiversioning).
#pragma once

#if defined(__x86_64__) && defined(__GNUC__)
#define SIMCLR_CPU_CLONES __attribute__((target_clones("avx512f", "default")))
#else
#define SIMCLR_CPU_CLONES
#endif
