// [cuda] tests of data movement: device round trips, casts (one cast_element on both backends, so
// the results are bit-identical), copy_ into strided destinations and from broadcast sources,
// contiguous(), and gradients through to(device) and to(dtype).
#include <catch2/catch.hpp>

#include <vector>

#include "cuda_test_util.h"
#include "kernels/ops.h"

namespace {

using namespace simclr;
using test::kCpu;
using test::kCuda;
using test::require_same_bytes;

// CPU values of `dtype` from [low, high) (drawn in f64 with fractions, then cast on the CPU).
// Every conversion in these tests stays in range: u8 sources and targets get low >= 0.
Tensor values_of(const Shape& shape, DType dtype, uint64_t seed, double low, double high) {
  NoGradGuard no_grad;
  return to(test::random_tensor(shape, DType::f64, seed, low, high), dtype);
}

double low_for(DType a, DType b) {
  return a == DType::u8 || b == DType::u8 ? 0.0 : -1000.0;
}
double high_for(DType a, DType b) {
  return a == DType::u8 || b == DType::u8 ? 250.0 : 1000.0;
}

}  // namespace

TEST_CASE("to(device) round trips through CUDA bit for bit", "[cuda][kernels][copy]") {
  const DType dtype = GENERATE(from_range(test::kAllDTypes));
  INFO("dtype " << dtype_name(dtype));
  const std::vector<Shape> shapes{{1}, {1, 1}, {3, 5, 7}, {129, 17}, {4097}, {0}};
  uint64_t seed = 100;
  for (const Shape& shape : shapes) {
    INFO("shape " << shape.str());
    const Tensor src =
        values_of(shape, dtype, ++seed, low_for(dtype, dtype), high_for(dtype, dtype));
    const Tensor c = to(src, kCuda);
    REQUIRE(c.device() == kCuda);
    REQUIRE(c.dtype() == dtype);
    REQUIRE(c.is_contiguous());
    const Tensor back = to(c, kCpu);
    REQUIRE(back.device() == kCpu);
    require_same_bytes(back, src);
  }
  // A non-contiguous source arrives contiguous, in row-major order of the view.
  const Tensor base = values_of({7, 5, 3}, dtype, 7, low_for(dtype, dtype), high_for(dtype, dtype));
  const Tensor view = permute(base, {2, 0, 1});
  const Tensor c = to(view, kCuda);
  REQUIRE(c.is_contiguous());
  require_same_bytes(c, contiguous(view));
  // And CUDA to CUDA on the same device is the identity.
  REQUIRE(to(c, kCuda).impl() == c.impl());
}

TEST_CASE("casts on CUDA equal the CPU casts bit for bit for every dtype pair",
          "[cuda][kernels][copy]") {
  uint64_t seed = 200;
  for (DType from : test::kAllDTypes) {
    for (DType into : test::kAllDTypes) {
      INFO(dtype_name(from) << " -> " << dtype_name(into));
      const Tensor src =
          values_of({3, 5, 7}, from, ++seed, low_for(from, into), high_for(from, into));
      const Tensor src_c = to(src, kCuda);
      const Tensor cast_c = to(src_c, into);
      REQUIRE(cast_c.device() == kCuda);
      REQUIRE(cast_c.dtype() == into);
      require_same_bytes(cast_c, to(src, into));
      // The same through a permuted (strided) source.
      const Tensor view_c = to(permute(src_c, {2, 0, 1}), into);
      if (from != into) REQUIRE(view_c.is_contiguous());  // a cast to the same dtype is a no-op
      require_same_bytes(view_c, to(permute(src, {2, 0, 1}), into));
    }
  }
}

TEST_CASE("casts on CUDA round the 16-bit types like the CPU at odd sizes",
          "[cuda][kernels][copy]") {
  // f32 -> bf16/f16 -> f32 at sizes that leave partial blocks, from values needing rounding.
  for (int64_t n : {1, 3, 17, 33, 129, 1000, 4097}) {
    INFO("n " << n);
    const Tensor x =
        test::random_tensor({n}, DType::f32, 300 + static_cast<uint64_t>(n), -60000.0, 60000.0);
    const Tensor xc = to(x, kCuda);
    for (DType half : {DType::bf16, DType::f16}) {
      INFO(dtype_name(half));
      require_same_bytes(to(xc, half), to(x, half));
      require_same_bytes(to(to(xc, half), DType::f32), to(to(x, half), DType::f32));
    }
  }
}

TEST_CASE("copy_ on CUDA into a strided destination writes only the view",
          "[cuda][kernels][copy]") {
  const DType dtype = GENERATE(DType::f32, DType::f64, DType::bf16, DType::f16, DType::i32);
  INFO("dtype " << dtype_name(dtype));
  const Tensor original = values_of({9, 11}, dtype, 41, -50.0, 50.0);
  // Rows 2, 5, 8 and columns 1..6 seen transposed: a [6, 3] view with strides (1, 33).
  auto window = [](const Tensor& t) {
    return transpose(slice(slice(t, 0, 2, 9, 3), 1, 1, 7), 0, 1);
  };
  const Tensor src = values_of({6, 3}, dtype, 42, -50.0, 50.0);

  SECTION("source on the same device") {
    Tensor dst_c = to(original, kCuda);
    Tensor view_c = window(dst_c);
    copy_(view_c, to(src, kCuda));
    Tensor dst_r = clone(original);
    Tensor view_r = window(dst_r);
    copy_(view_r, src);
    require_same_bytes(dst_c, dst_r);
  }
  SECTION("source on the CPU, another dtype, itself a transposed view") {
    const Tensor src_t = transpose(values_of({3, 6}, DType::f64, 43, -50.0, 50.0), 0, 1);
    Tensor dst_c = to(original, kCuda);
    Tensor view_c = window(dst_c);
    copy_(view_c, src_t);
    REQUIRE(dst_c.device() == kCuda);
    Tensor dst_r = clone(original);
    Tensor view_r = window(dst_r);
    copy_(view_r, src_t);
    require_same_bytes(dst_c, dst_r);
  }
  SECTION("CUDA source into a strided CPU destination") {
    Tensor dst_r = clone(original);
    Tensor view_r = window(dst_r);
    copy_(view_r, to(src, kCuda));
    Tensor expect = clone(original);
    Tensor view_e = window(expect);
    copy_(view_e, src);
    require_same_bytes(dst_r, expect);
  }
}

TEST_CASE("copy_ on CUDA broadcasts its source", "[cuda][kernels][copy]") {
  const DType dtype = GENERATE(DType::f32, DType::f64, DType::bf16, DType::f16, DType::i64);
  INFO("dtype " << dtype_name(dtype));
  const Tensor row = values_of({11}, dtype, 51, -50.0, 50.0);
  const Tensor col = values_of({9, 1}, dtype, 52, -50.0, 50.0);
  const Tensor scalar = values_of({1}, dtype, 53, -50.0, 50.0);
  for (const Tensor& src : {row, col, scalar}) {
    INFO("source " << src.str());
    Tensor dst_c = full({9, 11}, 3.0, dtype, kCuda);
    copy_(dst_c, to(src, kCuda));
    Tensor dst_r = full({9, 11}, 3.0, dtype, kCpu);
    copy_(dst_r, src);
    require_same_bytes(dst_c, dst_r);
    // From an expanded (stride 0) view too, and from the CPU across devices.
    Tensor dst_e = full({9, 11}, 3.0, dtype, kCuda);
    copy_(dst_e, expand(to(src, kCuda), {9, 11}));
    require_same_bytes(dst_e, dst_r);
    Tensor dst_x = full({9, 11}, 3.0, dtype, kCuda);
    copy_(dst_x, src);
    require_same_bytes(dst_x, dst_r);
  }
  // A broadcast source into a transposed destination: every column gets the row's values.
  Tensor dst_c = full({11, 9}, 3.0, dtype, kCuda);
  Tensor dst_t = transpose(dst_c, 0, 1);
  copy_(dst_t, to(row, kCuda));
  Tensor dst_r = full({11, 9}, 3.0, dtype, kCpu);
  Tensor dst_rt = transpose(dst_r, 0, 1);
  copy_(dst_rt, row);
  require_same_bytes(dst_c, dst_r);
}

TEST_CASE("contiguous on CUDA of a permuted tensor", "[cuda][kernels][copy]") {
  const DType dtype = GENERATE(from_range(test::kAllDTypes));
  INFO("dtype " << dtype_name(dtype));
  const Tensor base = values_of({5, 7, 3, 2}, dtype, 61, 0.0, 250.0);
  const Tensor base_c = to(base, kCuda);
  for (const std::vector<int64_t>& perm :
       {std::vector<int64_t>{3, 1, 0, 2}, std::vector<int64_t>{0, 2, 1, 3},
        std::vector<int64_t>{1, 0, 2, 3}}) {
    const Tensor view_c = permute(base_c, perm);
    REQUIRE(!view_c.is_contiguous());
    const Tensor out = contiguous(view_c);
    REQUIRE(out.is_contiguous());
    REQUIRE(out.device() == kCuda);
    require_same_bytes(out, contiguous(permute(base, perm)));
    // clone of a contiguous tensor is a new buffer with the same bytes.
    const Tensor copy = clone(out);
    REQUIRE(copy.data_ptr() != out.data_ptr());
    require_same_bytes(copy, out);
  }
  // A contiguous tensor is returned as it is; a stepped slice is gathered.
  REQUIRE(contiguous(base_c).impl() == base_c.impl());
  require_same_bytes(contiguous(slice(base_c, 1, 1, 7, 2)), contiguous(slice(base, 1, 1, 7, 2)));
}

TEST_CASE("gradients flow through to(device) and to(dtype) on CUDA", "[cuda][kernels][copy]") {
  const Tensor w = test::random_tensor({4, 33}, DType::f32, 71, 0.5, 1.5);

  SECTION("a CPU leaf used on CUDA gets its gradient on the CPU") {
    Tensor x = test::random_tensor({4, 33}, DType::f32, 72);
    x.set_requires_grad(true);
    const Tensor y = mul(to(x, kCuda), to(w, kCuda));
    REQUIRE(y.device() == kCuda);
    sum(to(y, kCpu)).backward();
    REQUIRE(x.grad().defined());
    REQUIRE(x.grad().device() == kCpu);
    require_same_bytes(x.grad(), w);
  }
  SECTION("a CUDA leaf cast to f64 and back gets an f32 gradient on CUDA") {
    Tensor x = to(test::random_tensor({4, 33}, DType::f32, 73), kCuda);
    x.set_requires_grad(true);
    const Tensor y = mul(to(x, DType::f64), to(to(w, DType::f64), kCuda));
    REQUIRE(y.dtype() == DType::f64);
    sum(y).backward();
    REQUIRE(x.grad().defined());
    REQUIRE(x.grad().device() == kCuda);
    REQUIRE(x.grad().dtype() == DType::f32);
    require_same_bytes(x.grad(), w);
  }
  SECTION("a CUDA leaf through bf16 on the CPU matches the all-CPU gradient") {
    const Tensor x0 = test::random_tensor({4, 33}, DType::f32, 74);
    Tensor xc = to(x0, kCuda);
    xc.set_requires_grad(true);
    Tensor xr = x0.detach();
    xr.set_requires_grad(true);
    const Tensor wb = to(w, DType::bf16);
    sum(mul(to(to(xc, DType::bf16), kCpu), wb)).backward();
    sum(mul(to(xr, DType::bf16), wb)).backward();
    REQUIRE(xc.grad().device() == kCuda);
    REQUIRE(xc.grad().dtype() == DType::f32);
    require_same_bytes(xc.grad(), xr.grad());
  }
  SECTION("a permuted CUDA view of a leaf sent to the CPU") {
    Tensor x = to(test::random_tensor({33, 4}, DType::f32, 75), kCuda);
    x.set_requires_grad(true);
    sum(mul(to(transpose(x, 0, 1), kCpu), w)).backward();
    REQUIRE(x.grad().device() == kCuda);
    require_same_bytes(x.grad(), transpose(w, 0, 1));
  }
}
