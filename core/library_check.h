// Checks for the return codes of CUDA, cuBLAS, cuDNN, NCCL and MPI. A failure throws simclr::Error
// with file:line, the failing call as written, and the library's own name and message for the code.
#pragma once

#include <mpi.h>

#include <string>

#include "core/error.h"

#if SIMCLR_WITH_CUDA
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <nccl.h>
#endif

namespace simclr::detail {

std::string mpi_message(int code);
[[noreturn]] void throw_library_error(const char* library, const std::string& message,
                                      const char* expr, const char* file, int line);

#if SIMCLR_WITH_CUDA
std::string status_message(cudaError_t code);
std::string status_message(cublasStatus_t code);
std::string status_message(cudnnStatus_t code);
std::string status_message(ncclResult_t code);
#endif

}  // namespace simclr::detail

#define SIMCLR_LIBRARY_CHECK_(library, ok, expr)                                                 \
  do {                                                                                           \
    auto simclr_status_ = (expr);                                                                \
    if (simclr_status_ != (ok))                                                                  \
      ::simclr::detail::throw_library_error(                                                     \
          library, ::simclr::detail::status_message(simclr_status_), #expr, __FILE__, __LINE__); \
  } while (false)

#define SIMCLR_CUDA_CHECK(expr) SIMCLR_LIBRARY_CHECK_("CUDA", cudaSuccess, expr)
#define SIMCLR_CUBLAS_CHECK(expr) SIMCLR_LIBRARY_CHECK_("cuBLAS", CUBLAS_STATUS_SUCCESS, expr)
#define SIMCLR_CUDNN_CHECK(expr) SIMCLR_LIBRARY_CHECK_("cuDNN", CUDNN_STATUS_SUCCESS, expr)
#define SIMCLR_NCCL_CHECK(expr) SIMCLR_LIBRARY_CHECK_("NCCL", ncclSuccess, expr)
#define SIMCLR_MPI_CHECK(expr)                                                                    \
  do {                                                                                            \
    int simclr_status_ = (expr);                                                                  \
    if (simclr_status_ != MPI_SUCCESS)                                                            \
      ::simclr::detail::throw_library_error("MPI", ::simclr::detail::mpi_message(simclr_status_), \
                                            #expr, __FILE__, __LINE__);                           \
  } while (false)
