// The CPU BLAS (OpenBLAS) and the kernels it runs. OpenBLAS picks its kernels once, when it loads,
// from the CPU's model number; virtual machines that report a generic model make it fall back to
// its SSE3 ("Prescott") kernels, 3-5x slower at sgemm than the AVX2 or AVX-512 ones the CPU has
// (measured on this project's 2-core machines). OPENBLAS_CORETYPE overrides the choice, but only
// before the library loads, so a program has to start again to apply it.
#pragma once

#include <string>

namespace simclr {

// Call first in main: when OpenBLAS fell back to pre-AVX2 kernels on a CPU with AVX2 and FMA,
// sets OPENBLAS_CORETYPE to Haswell (or SkylakeX with AVX-512) and re-executes the program with
// the same arguments, once. Does nothing when OPENBLAS_CORETYPE is already set.
void use_best_cpu_blas_kernels(char** argv);

// "OpenBLAS 0.3.21 ..., kernels SkylakeX, 1 thread per call from 2 CPU kernel threads": the
// kernels call OpenBLAS from their own thread pool (kernels/cpu/parallel.h).
std::string cpu_blas_description();

}  // namespace simclr
