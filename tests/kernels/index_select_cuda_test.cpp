// [cuda] index_select: the device gather equals the CPU one byte for byte, for rows whose size is
// a whole number of words (the word path) and rows that are not (the byte path), from a source
// that starts at an odd byte offset.
#include <catch2/catch.hpp>

#include "cuda_test_util.h"
#include "kernels/ops.h"

namespace simclr {

TEST_CASE("index_select on CUDA equals the CPU", "[cuda][kernels][index_select]") {
  for (const Shape& shape : {Shape{37, 28, 28, 1}, Shape{11, 7, 3}, Shape{5, 1}}) {
    INFO("shape " << shape.str());
    const Tensor src = to(test::random_tensor(shape, DType::f64, 51, 0.0, 250.0), DType::u8);
    const Tensor idx =
        from_vector(std::vector<int64_t>{shape[0] - 1, 0, 2, 2, shape[0] / 2, 1}, Shape{6});
    const Tensor want = index_select(src, idx);
    const Tensor got = index_select(to(src, test::kCuda), idx);
    REQUIRE(got.device() == test::kCuda);
    test::require_same_bytes(got, want);
    // Rows 1.. of the source: the data starts one row in, at an odd address for odd row sizes.
    const Tensor tail = slice(src, 0, 1, shape[0]);
    const Tensor idx2 =
        from_vector(std::vector<int64_t>{0, shape[0] - 2, 1 % (shape[0] - 1)}, Shape{3});
    test::require_same_bytes(index_select(slice(to(src, test::kCuda), 0, 1, shape[0]), idx2),
                             index_select(tail, idx2));
  }
  const Tensor f = test::random_tensor({9, 17}, DType::f32, 52);
  const Tensor idx = from_vector(std::vector<int64_t>{3, 8, 0}, Shape{3});
  test::require_same_bytes(index_select(to(f, test::kCuda), idx), index_select(f, idx));
}

}  // namespace simclr
