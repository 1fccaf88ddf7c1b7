// index_select on the CPU: rows land where the indices say, repeats and any order included, and
// bad indices or a tensor that requires grad are refused with the op's name.
#include <catch2/catch.hpp>

#include "kernels/ops.h"
#include "test_util.h"

namespace simclr {

TEST_CASE("index_select gathers rows in the indices' order", "[kernels][index_select]") {
  const Tensor src = to(test::random_tensor({13, 5, 3}, DType::f64, 41, 0.0, 250.0), DType::u8);
  const std::vector<int64_t> idx{12, 0, 7, 7, 3};
  const Tensor out = index_select(src, from_vector(idx, Shape{5}));
  REQUIRE(out.shape() == Shape{5, 5, 3});
  const auto s = to_vector<uint8_t>(src);
  const auto o = to_vector<uint8_t>(out);
  for (size_t i = 0; i < idx.size(); ++i)
    for (size_t e = 0; e < 15; ++e) CHECK(o[i * 15 + e] == s[static_cast<size_t>(idx[i]) * 15 + e]);

  // A strided source is gathered in its logical order.
  const Tensor f = test::random_tensor({6, 9}, DType::f32, 42);
  const Tensor ft = transpose(f, 0, 1);  // [9, 6]
  const Tensor g = index_select(ft, from_vector(std::vector<int64_t>{8, 1}, Shape{2}));
  const auto fv = to_vector<float>(f);
  const auto gv = to_vector<float>(g);
  REQUIRE(gv.size() == 12);
  for (size_t j = 0; j < 6; ++j) {
    CHECK(gv[j] == fv[j * 9 + 8]);
    CHECK(gv[6 + j] == fv[j * 9 + 1]);
  }
}

TEST_CASE("index_select refuses bad indices", "[kernels][index_select]") {
  const Tensor src = test::random_tensor({4, 3}, DType::f32, 43);
  CHECK_THROWS_WITH(index_select(src, from_vector(std::vector<int64_t>{1, 4}, Shape{2})),
                    Catch::Contains("index 4 at position 1 is outside [0, 4)"));
  CHECK_THROWS_WITH(index_select(src, from_vector(std::vector<int64_t>{-1}, Shape{1})),
                    Catch::Contains("outside [0, 4)"));
  CHECK_THROWS_WITH(index_select(src, from_vector(std::vector<float>{1}, Shape{1})),
                    Catch::Contains("expected int64 indices"));
  Tensor leaf = test::random_tensor({4, 3}, DType::f32, 44);
  leaf.set_requires_grad(true);
  CHECK_THROWS_WITH(index_select(leaf, from_vector(std::vector<int64_t>{0}, Shape{1})),
                    Catch::Contains("requires grad"));
}

}  // namespace simclr
