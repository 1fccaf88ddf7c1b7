#include "core/error.h"

#include "core/library_check.h"

namespace simclr {

Error::Error(const char* file, int line, const std::string& message)
    : std::runtime_error(message + " (" + file + ":" + std::to_string(line) + ")"),
      message_(message),
      file_(file),
      line_(line) {}

namespace detail {

void throw_library_error(const char* library, const std::string& message, const char* expr,
                         const char* file, int line) {
  throw Error(file, line, concat(library, " error: ", message, " in ", expr));
}

std::string mpi_message(int code) {
  // MPI_Error_string itself aborts the process when MPI is not running (Open MPI enforces it).
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) return concat("MPI error code ", code, " (MPI is not running)");
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return concat("MPI error code ", code);
  return concat(std::string(text, static_cast<size_t>(length)), " (code ", code, ")");
}

#if SIMCLR_WITH_CUDA
std::string status_message(cudaError_t code) {
  return concat(cudaGetErrorName(code), ": ", cudaGetErrorString(code));
}
std::string status_message(cublasStatus_t code) {
  return concat(cublasGetStatusName(code), ": ", cublasGetStatusString(code));
}
std::string status_message(cudnnStatus_t code) {
  return cudnnGetErrorString(code);
}
std::string status_message(ncclResult_t code) {
  return concat(ncclGetErrorString(code), " (ncclResult_t ", static_cast<int>(code), ")");
}
#endif

}  // namespace detail
}  // namespace simclr
