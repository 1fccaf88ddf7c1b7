// [cuda] tests of linear: cuBLASLt with its bias epilogue (a separate bias pass for f64) against
// the CPU's GEMM plus bias, forward and backward, at odd sizes and for every floating dtype.
#include <catch2/catch.hpp>

#include "cuda_test_util.h"
#include "kernels/nn_ops.h"

using namespace simclr;
using test::Tolerance;

TEST_CASE("linear on CUDA matches the CPU with and without bias", "[cuda][kernels]") {
  const test::DTypeTolerances fwd{{1e-12, 1e-12}, {1e-4, 1e-4}, {2e-2, 2e-2}, {4e-3, 4e-3}};
  const test::DTypeTolerances bwd{{1e-12, 1e-12}, {1e-4, 1e-4}, {3e-2, 3e-2}, {8e-3, 8e-3}};
  for (DType dtype : {DType::f32, DType::f64, DType::bf16, DType::f16}) {
    for (auto [rows, in, out] : {std::tuple{1, 1, 1}, {3, 5, 7}, {129, 33, 65}, {2, 100, 3}}) {
      INFO(dtype_name(dtype) << " rows " << rows << " in " << in << " out " << out);
      const Tensor x = test::random_tensor({rows, in}, dtype, 71);
      const Tensor w = test::random_tensor({out, in}, dtype, 72);
      const Tensor b = test::random_tensor({out}, dtype, 73);
      const test::BackendCheck check{fwd(dtype), bwd(dtype), 74};
      test::check_backends([](auto& v) { return linear(v[0], v[1], v[2]); }, {x, w, b}, check);
      test::check_backends([](auto& v) { return linear(v[0], v[1], Tensor()); }, {x, w}, check);
    }
  }
}

TEST_CASE("linear on CUDA over a batch of sequences", "[cuda][kernels]") {
  const Tensor x = test::random_tensor({4, 3, 17}, DType::f32, 75);
  const Tensor w = test::random_tensor({9, 17}, DType::f32, 76);
  const Tensor b = test::random_tensor({9}, DType::f32, 77);
  test::check_backends([](auto& v) { return linear(v[0], v[1], v[2]); }, {x, w, b},
                       test::BackendCheck{{1e-4, 1e-4}, {1e-4, 1e-4}, 78});
}
