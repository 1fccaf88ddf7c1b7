// [cuda] tests of matmul on cuBLASLt against OpenBLAS: odd 2-D shapes, transposed, sliced and
// stepped operands, batches and a 2-D operand broadcast over a batch, in f32, f64, bf16 and f16,
// forward and the gradients of both operands. cuBLAS may order the k-sums differently, and bf16/f16
// results are rounded from fp32 accumulators on both sides, so results agree to a tolerance scaled
// by the magnitude of the result.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "cuda_test_util.h"
#include "kernels/backends.h"
#include "kernels/ops.h"

namespace {

using namespace simclr;
using test::kCpu;
using test::kCuda;
using test::Tolerance;

constexpr test::DTypeTolerances kMatmulTol{
    .f64 = {1e-11, 1e-11}, .f32 = {1e-4, 1e-4}, .bf16 = {2e-2, 2e-2}, .f16 = {4e-3, 4e-3}};

using View = std::function<Tensor(const Tensor&)>;

Tensor same(const Tensor& t) {
  return t;
}
Tensor last_two_swapped(const Tensor& t) {
  return transpose(t, -1, -2);
}
Tensor even_rows(const Tensor& t) {
  return slice(t, 0, 0, t.size(0), 2);
}
Tensor even_columns(const Tensor& t) {
  return slice(t, 1, 0, t.size(1), 2);
}
Tensor from_row_1(const Tensor& t) {
  return slice(t, 0, 1, t.size(0));
}
Tensor from_column_1(const Tensor& t) {
  return slice(t, 1, 1, t.size(1) - 1);
}

struct MatmulCase {
  std::string name;
  Shape a, b;  // as stored; the views below make the operands
  View va, vb;
};

const std::vector<MatmulCase>& matmul_cases() {
  static const std::vector<MatmulCase> cases{
      {"1x1x1", {1, 1}, {1, 1}, same, same},
      {"3x5x7", {3, 5}, {5, 7}, same, same},
      {"129x33x65", {129, 33}, {33, 65}, same, same},
      {"257x1000x31", {257, 1000}, {1000, 31}, same, same},
      {"a transposed", {33, 129}, {33, 65}, last_two_swapped, same},
      {"b transposed", {129, 33}, {65, 33}, same, last_two_swapped},
      {"both transposed", {33, 129}, {65, 33}, last_two_swapped, last_two_swapped},
      {"row times matrix", {1, 17}, {17, 5}, same, same},
      {"matrix times column", {6, 17}, {17, 1}, same, same},
      {"transposed column times matrix", {17, 1}, {17, 9}, last_two_swapped, same},
      {"stepped rows", {258, 33}, {33, 65}, even_rows, same},
      {"stepped columns (copied)", {129, 66}, {33, 65}, even_columns, same},
      {"batched 3 of 5x7x4", {3, 5, 7}, {3, 7, 4}, same, same},
      {"batched a transposed", {3, 7, 5}, {3, 7, 4}, last_two_swapped, same},
      {"batched b transposed", {3, 5, 7}, {3, 4, 7}, same, last_two_swapped},
      {"batched 4 of 65x129x33", {4, 65, 129}, {4, 129, 33}, same, same},
      {"batch of one", {1, 129, 33}, {1, 33, 65}, same, same},
      {"2-D b broadcast over the batch", {3, 5, 7}, {7, 4}, same, same},
      {"2-D a broadcast over the batch", {5, 7}, {3, 7, 4}, same, same},
      {"2-D a transposed against transposed batches",
       {7, 5},
       {3, 4, 7},
       last_two_swapped,
       last_two_swapped},
  };
  return cases;
}

// Operands whose first element is not at the start of the allocation (offset slices).
const std::vector<MatmulCase>& offset_cases() {
  static const std::vector<MatmulCase> cases{
      {"rows 1.. of a and columns 1.. of b", {130, 33}, {33, 67}, from_row_1, from_column_1},
      {"batches 1.. of both", {4, 5, 7}, {4, 7, 3}, from_row_1, from_row_1},
  };
  return cases;
}

void check_matmul(const MatmulCase& c, DType dtype, uint64_t seed) {
  INFO(c.name << " " << dtype_name(dtype));
  const Tolerance tol = kMatmulTol(dtype);
  const Tensor a0 = test::random_tensor(c.a, dtype, seed, -1.0, 1.0);
  const Tensor b0 = test::random_tensor(c.b, dtype, seed + 1, -1.0, 1.0);
  Tensor ar = a0.detach(), br = b0.detach();
  ar.set_requires_grad(true);
  br.set_requires_grad(true);
  Tensor ac = to(a0, kCuda), bc = to(b0, kCuda);
  ac.set_requires_grad(true);
  bc.set_requires_grad(true);

  const Tensor yr = matmul(c.va(ar), c.vb(br));
  const Tensor yc = matmul(c.va(ac), c.vb(bc));
  REQUIRE(yc.device() == kCuda);
  REQUIRE(yc.dtype() == dtype);
  {
    INFO("forward " << yr.str());
    SIMCLR_REQUIRE_CLOSE(yc, yr, test::scaled(tol, yr));
  }
  const Tensor w = test::random_tensor(yr.shape(), dtype, seed + 2, 0.5, 1.5);
  sum(mul(yr, w)).backward();
  sum(mul(yc, to(w, kCuda))).backward();
  REQUIRE(ac.grad().defined());
  REQUIRE(bc.grad().defined());
  REQUIRE(ac.grad().device() == kCuda);
  REQUIRE(bc.grad().device() == kCuda);
  {
    INFO("gradient of a");
    SIMCLR_REQUIRE_CLOSE(ac.grad(), ar.grad(), test::scaled(tol, ar.grad()));
  }
  {
    INFO("gradient of b");
    SIMCLR_REQUIRE_CLOSE(bc.grad(), br.grad(), test::scaled(tol, br.grad()));
  }
}

}  // namespace

TEST_CASE("matmul on CUDA matches the CPU forward and backward", "[cuda][kernels][matmul]") {
  const DType dtype = GENERATE(DType::f32, DType::f64, DType::bf16, DType::f16);
  uint64_t seed = 12000;
  for (const MatmulCase& c : matmul_cases()) {
    check_matmul(c, dtype, seed);
    seed += 10;
  }
}

TEST_CASE("matmul on CUDA with operands at an offset into their storage",
          "[cuda][kernels][matmul]") {
  const DType dtype = GENERATE(DType::f32, DType::f64, DType::bf16, DType::f16);
  uint64_t seed = 13000;
  for (const MatmulCase& c : offset_cases()) {
    check_matmul(c, dtype, seed);
    seed += 10;
  }
}

TEST_CASE("matmul on CUDA computes in full f32 precision", "[cuda][kernels][matmul]") {
  // TF32 would keep only 10 mantissa bits of each input: 1 + 2^-12 would multiply as 1.
  const float x = 1.0f + 0x1p-12f;
  const Tensor a = full({64, 64}, x, DType::f32, kCuda);
  const Tensor b = full({64, 64}, x, DType::f32, kCuda);
  const double expect = 64.0 * static_cast<double>(x) * static_cast<double>(x);
  for (double v : test::values(matmul(a, b))) REQUIRE(std::abs(v - expect) <= 1e-5 * expect);
}

TEST_CASE("matmul on CUDA rejects mismatched operands", "[cuda][kernels][matmul]") {
  const Tensor a = ones({3, 4}, DType::f32, kCuda);
  REQUIRE_THROWS_WITH(matmul(a, ones({5, 6}, DType::f32, kCuda)),
                      Catch::Contains("inner dimensions"));
  REQUIRE_THROWS_WITH(matmul(a, ones({4, 6}, DType::f32, kCpu)), Catch::Contains("cuda:0"));
  REQUIRE_THROWS_WITH(matmul(a, ones({4, 6}, DType::bf16, kCuda)), Catch::Contains("bf16"));
}

#if SIMCLR_WITH_CUDA
TEST_CASE("matmul kernel on CUDA honors alpha and beta like the CPU kernel",
          "[cuda][kernels][matmul]") {
  const DType dtype = GENERATE(DType::f32, DType::f64, DType::bf16, DType::f16);
  INFO(dtype_name(dtype));
  // Two batches of C[5, 7] = 0.5 * A[5, 3] B[3, 7] + 2 * C, with C read before it is written.
  const Tensor a = test::random_tensor({2, 5, 3}, dtype, 14000, -1.0, 1.0);
  const Tensor b = test::random_tensor({2, 3, 7}, dtype, 14001, -1.0, 1.0);
  const Tensor c0 = test::random_tensor({2, 5, 7}, dtype, 14002, -1.0, 1.0);
  const Tensor ac = to(a, kCuda), bc = to(b, kCuda);
  Tensor cr = clone(c0), cc = to(c0, kCuda);
  auto args_for = [](const Tensor& x, const Tensor& y, Tensor& out) {
    GemmArgs g;
    g.batch = 2;
    g.m = 5;
    g.n = 7;
    g.k = 3;
    g.a = x.data_ptr();
    g.lda = 3;
    g.stride_a = 15;
    g.b = y.data_ptr();
    g.ldb = 7;
    g.stride_b = 21;
    g.c = out.data_ptr();
    g.ldc = 7;
    g.stride_c = 35;
    g.alpha = 0.5f;
    g.beta = 2.0f;
    return g;
  };
  cpu::matmul(dtype, args_for(a, b, cr), current_stream(kCpu));
  cuda::matmul(dtype, args_for(ac, bc, cc), current_stream(kCuda));
  SIMCLR_REQUIRE_CLOSE(cc, cr, test::scaled(kMatmulTol(dtype), cr));
  // And against the ops: 0.5 * matmul + 2 * C.
  SIMCLR_REQUIRE_CLOSE(cc, add(mul(matmul(a, b), 0.5), mul(c0, 2.0)),
                       test::scaled(kMatmulTol(dtype), cr));
}
#endif
