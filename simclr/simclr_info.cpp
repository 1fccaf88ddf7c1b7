// simclr_info: prints what the engine sees on this machine (GPUs, the versions of the libraries it
// was built against and loads at run time, MPI, the CPU BLAS and thread counts), so that a bug
// report or a benchmark can say exactly where it ran. It must work, and say why, on a machine
// without a GPU or a CUDA driver.
#include <mpi.h>

#include <cstddef>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <thread>

#include "core/cuda_device.h"
#include "core/error.h"
#include "core/library_check.h"
#include "kernels/cpu_blas.h"

namespace simclr {
namespace {

#if SIMCLR_WITH_CUDA

std::string dotted(long major, long minor, long patch) {
  return detail::concat(major, '.', minor, '.', patch);
}

// CUDA encodes versions as 1000 * major + 10 * minor.
std::string cuda_version(int version) {
  return detail::concat(version / 1000, '.', version % 1000 / 10);
}

std::string gib(size_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GiB", static_cast<double>(bytes) / (1 << 30));
  return text;
}

void print_cuda() {
  std::cout << "CUDA backend: built\n";
  std::cout << "  CUDA runtime: " << cuda_version(cuda_runtime_version()) << '\n';
  const int driver = cuda_driver_version();  // 0 when no driver is installed
  std::cout << "  CUDA driver:  " << (driver == 0 ? std::string("none") : cuda_version(driver))
            << '\n';

  const int devices = cuda_device_count();
  if (devices == 0) std::cout << "  no GPU: " << cuda_unavailable_reason() << '\n';
  for (int d = 0; d < devices; ++d) {
    const CudaDeviceInfo info = cuda_device_info(d);
    std::cout << "  cuda:" << d << ": " << info.name << ", " << gib(info.total_memory)
              << ", compute capability " << info.major << '.' << info.minor << ", "
              << info.multiprocessors << " SMs\n";
  }

  // cuDNN 9 encodes its version as 10000 * major + 100 * minor + patch.
  const size_t cudnn = cudnnGetVersion();
  std::cout << "  cuDNN:  " << dotted(cudnn / 10000, cudnn % 10000 / 100, cudnn % 100)
            << " (built against " << dotted(CUDNN_MAJOR, CUDNN_MINOR, CUDNN_PATCHLEVEL) << ")\n";

  int cublas_major = 0, cublas_minor = 0, cublas_patch = 0;
  SIMCLR_CUBLAS_CHECK(cublasGetProperty(MAJOR_VERSION, &cublas_major));
  SIMCLR_CUBLAS_CHECK(cublasGetProperty(MINOR_VERSION, &cublas_minor));
  SIMCLR_CUBLAS_CHECK(cublasGetProperty(PATCH_LEVEL, &cublas_patch));
  std::cout << "  cuBLAS: " << dotted(cublas_major, cublas_minor, cublas_patch)
            << " (built against " << dotted(CUBLAS_VER_MAJOR, CUBLAS_VER_MINOR, CUBLAS_VER_PATCH)
            << "; cuBLASLt " << cublasLtGetVersion() << ")\n";

  // NCCL >= 2.9 encodes its version as 10000 * major + 100 * minor + patch.
  int nccl = 0;
  SIMCLR_NCCL_CHECK(ncclGetVersion(&nccl));
  std::cout << "  NCCL:   " << dotted(nccl / 10000, nccl % 10000 / 100, nccl % 100)
            << " (built against " << dotted(NCCL_MAJOR, NCCL_MINOR, NCCL_PATCH) << ")\n";
}

#else

void print_cuda() {
  std::cout << "CUDA backend: built without CUDA\n";
}

#endif

// Both queries are allowed before MPI_Init, so this works when the program is not run by mpirun.
void print_mpi() {
  char library[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  SIMCLR_MPI_CHECK(MPI_Get_library_version(library, &length));
  std::string text(library, static_cast<size_t>(length));
  // Open MPI ends the string with a newline and may pad it with NULs.
  text.erase(text.find_last_not_of(std::string("\n\r \0", 4)) + 1);
  int major = 0, minor = 0;
  SIMCLR_MPI_CHECK(MPI_Get_version(&major, &minor));
  std::cout << "MPI: " << text << " (MPI standard " << major << '.' << minor << ")\n";
}

void print_cpu() {
  std::cout << "CPU BLAS: " << cpu_blas_description() << '\n';
  const unsigned threads = std::thread::hardware_concurrency();
  std::cout << "CPU hardware threads: "
            << (threads == 0 ? std::string("unknown") : std::to_string(threads)) << '\n';
}

}  // namespace
}  // namespace simclr

int main(int, char** argv) {
  try {
    simclr::use_best_cpu_blas_kernels(argv);
    std::cout << "simclr.cpp " << SIMCLR_VERSION << '\n';
    simclr::print_cuda();
    simclr::print_mpi();
    simclr::print_cpu();
    return 0;
  } catch (const simclr::Error& e) {
    std::cerr << "simclr_info: " << e.what() << '\n';
  } catch (const std::exception& e) {
    std::cerr << "simclr_info: unexpected error: " << e.what() << '\n';
  }
  return 1;
}
