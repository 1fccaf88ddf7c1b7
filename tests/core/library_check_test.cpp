// Each library's failure code becomes a simclr::Error with the library's own name and message,
// the failing call, and file:line. The message functions need no GPU, so this runs everywhere.
#include <catch2/catch.hpp>

#include "core/library_check.h"

using namespace simclr;

TEST_CASE("MPI return codes become errors even before MPI starts", "[core]") {
  // MPI's own text needs a running MPI (the mpirun tests of dist/ check it); here the code is
  // named.
  REQUIRE_THROWS_WITH([] { SIMCLR_MPI_CHECK(MPI_ERR_COUNT); }(),
                      Catch::Contains("MPI error: MPI error code ") &&
                          Catch::Contains("in MPI_ERR_COUNT") &&
                          Catch::Contains("library_check_test.cpp:"));
  REQUIRE_NOTHROW([] { SIMCLR_MPI_CHECK(MPI_SUCCESS); }());
}

#if SIMCLR_WITH_CUDA
TEST_CASE("CUDA library return codes carry the library's message", "[core]") {
  REQUIRE_THROWS_WITH([] { SIMCLR_CUDA_CHECK(cudaErrorMemoryAllocation); }(),
                      Catch::Contains("CUDA error: cudaErrorMemoryAllocation: out of memory") &&
                          Catch::Contains("in cudaErrorMemoryAllocation (") &&
                          Catch::Contains("library_check_test.cpp:"));
  REQUIRE_THROWS_WITH([] { SIMCLR_CUBLAS_CHECK(CUBLAS_STATUS_NOT_SUPPORTED); }(),
                      Catch::Contains("cuBLAS error: CUBLAS_STATUS_NOT_SUPPORTED"));
  REQUIRE_THROWS_WITH([] { SIMCLR_CUDNN_CHECK(CUDNN_STATUS_BAD_PARAM); }(),
                      Catch::Contains("cuDNN error: CUDNN_STATUS_BAD_PARAM"));
  REQUIRE_THROWS_WITH([] { SIMCLR_NCCL_CHECK(ncclInvalidArgument); }(),
                      Catch::Contains("NCCL error: invalid argument"));
  REQUIRE_NOTHROW([] { SIMCLR_CUDA_CHECK(cudaSuccess); }());
}
#endif
