// [cuda] tests of fill_ and the factories built on it (zeros, ones, full): the CUDA kernel writes
// exactly the bytes the CPU reference writes, for every dtype, contiguous or through a strided
// view.
#include <catch2/catch.hpp>

#include <vector>

#include "cuda_test_util.h"
#include "kernels/ops.h"

namespace {

using namespace simclr;
using test::kCpu;
using test::kCuda;
using test::require_same_bytes;

// A value every dtype holds exactly (u8 takes no negative values).
double fill_value(DType dtype) {
  switch (dtype) {
    case DType::u8:
      return 200.0;
    case DType::i32:
    case DType::i64:
      return -7.0;
    default:
      return -3.25;
  }
}

// Non-zero values in every dtype: floats from [-4, 4), integers 1, 2, ..., 250, 1, 2, ...
Tensor distinct_values(const Shape& shape, DType dtype, uint64_t seed) {
  if (is_floating(dtype)) return test::random_tensor(shape, dtype, seed, -4.0, 4.0);
  std::vector<double> v(static_cast<size_t>(shape.numel()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i % 250 + 1);
  return to(from_vector(v, shape), dtype);
}

const std::vector<Shape>& fill_shapes() {
  static const std::vector<Shape> shapes{{1}, {1, 1}, {3, 5, 7}, {129, 17}, {4097}, {0}, {2, 0, 3}};
  return shapes;
}

}  // namespace

TEST_CASE("full on CUDA writes the same bytes as the CPU for every dtype",
          "[cuda][kernels][fill]") {
  const DType dtype = GENERATE(from_range(test::kAllDTypes));
  INFO("dtype " << dtype_name(dtype));
  for (const Shape& shape : fill_shapes()) {
    INFO("shape " << shape.str());
    const double v = fill_value(dtype);
    const Tensor c = full(shape, v, dtype, kCuda);
    REQUIRE(c.device() == kCuda);
    REQUIRE(c.dtype() == dtype);
    require_same_bytes(c, full(shape, v, dtype, kCpu));
    // A value that needs rounding in the 16-bit types and truncation in the integer ones.
    const double odd = dtype == DType::u8 ? 77.7 : 1.0 / 3.0 + 5.0;
    require_same_bytes(full(shape, odd, dtype, kCuda), full(shape, odd, dtype, kCpu));
  }
}

TEST_CASE("zeros and ones on CUDA hold exactly zero and one", "[cuda][kernels][fill]") {
  const DType dtype = GENERATE(from_range(test::kAllDTypes));
  INFO("dtype " << dtype_name(dtype));
  for (const Shape& shape : fill_shapes()) {
    INFO("shape " << shape.str());
    const Tensor z = zeros(shape, dtype, kCuda);
    const Tensor o = ones(shape, dtype, kCuda);
    REQUIRE(z.device() == kCuda);
    REQUIRE(o.device() == kCuda);
    require_same_bytes(z, zeros(shape, dtype, kCpu));
    require_same_bytes(o, ones(shape, dtype, kCpu));
    for (double x : test::values(z)) REQUIRE(x == 0.0);
    for (double x : test::values(o)) REQUIRE(x == 1.0);
  }
  // zeros_like and ones_like keep the device and dtype.
  const Tensor like = full({3, 5}, 2.0, dtype, kCuda);
  const Tensor z = zeros_like(like), o = ones_like(like);
  REQUIRE(z.device() == kCuda);
  REQUIRE(o.device() == kCuda);
  REQUIRE(z.dtype() == dtype);
  require_same_bytes(z, zeros({3, 5}, dtype, kCpu));
  require_same_bytes(o, ones({3, 5}, dtype, kCpu));
}

TEST_CASE("fill_ on CUDA overwrites every element of a contiguous tensor",
          "[cuda][kernels][fill]") {
  const DType dtype = GENERATE(from_range(test::kAllDTypes));
  INFO("dtype " << dtype_name(dtype));
  for (const Shape& shape : fill_shapes()) {
    INFO("shape " << shape.str());
    Tensor c = to(distinct_values(shape, dtype, 11), kCuda);
    Tensor& same = fill_(c, fill_value(dtype));
    REQUIRE(same.impl() == c.impl());
    require_same_bytes(c, full(shape, fill_value(dtype), dtype, kCpu));
  }
}

TEST_CASE("fill_ on CUDA through a transposed slice leaves the other elements alone",
          "[cuda][kernels][fill]") {
  const DType dtype = GENERATE(from_range(test::kAllDTypes));
  INFO("dtype " << dtype_name(dtype));
  const int64_t rows = 6, cols = 9;
  const Tensor original = distinct_values({rows, cols}, dtype, 23);
  const double v = fill_value(dtype);

  // Columns 1, 3, 5, 7 of rows 1..4, seen transposed: a [4, 4] view with strides (2, 9).
  Tensor parent_c = to(original, kCuda);
  Tensor view_c = transpose(slice(slice(parent_c, 1, 1, 8, 2), 0, 1, 5), 0, 1);
  REQUIRE(!view_c.is_contiguous());
  fill_(view_c, v);

  Tensor parent_r = clone(original);
  Tensor view_r = transpose(slice(slice(parent_r, 1, 1, 8, 2), 0, 1, 5), 0, 1);
  fill_(view_r, v);
  require_same_bytes(parent_c, parent_r);

  // And explicitly: filled where the view reaches, the original values elsewhere.
  const std::vector<double> got = test::values(parent_c);
  const std::vector<double> before = test::values(original);
  const double filled = test::values(full({1}, v, dtype, kCpu))[0];
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const size_t i = static_cast<size_t>(r * cols + c);
      const bool in_view = r >= 1 && r < 5 && c % 2 == 1 && c < 8;
      INFO("element (" << r << ", " << c << ")");
      REQUIRE(got[i] == (in_view ? filled : before[i]));
    }
  }
  for (double x : test::values(view_c)) REQUIRE(x == filled);
}

TEST_CASE("fill_ on CUDA through a permuted stepped 3-D view", "[cuda][kernels][fill]") {
  // A permuted, stepped view over a [5, 6, 7] f32 tensor: only its elements change.
  const Tensor original = test::random_tensor({5, 6, 7}, DType::f32, 31, 0.5, 1.5);
  Tensor parent_c = to(original, kCuda);
  Tensor parent_r = clone(original);
  const Shape view_shape{3, 5, 6};
  for (Tensor* p : {&parent_c, &parent_r}) {
    Tensor view = permute(slice(*p, 2, 0, 7, 3), {2, 0, 1});
    REQUIRE(view.shape() == view_shape);
    fill_(view, -2.0);
  }
  require_same_bytes(parent_c, parent_r);
  int64_t filled = 0;
  for (double x : test::values(parent_c)) filled += x == -2.0 ? 1 : 0;
  REQUIRE(filled == 3 * 5 * 6);
}
