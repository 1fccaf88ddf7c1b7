// [cuda] tests of tensors on a CUDA device: where they live, and the clear errors for mixing
// devices in one op or naming a device that does not exist.
#include <catch2/catch.hpp>

#include <vector>

#include "core/caching_allocator.h"
#include "core/cuda_device.h"
#include "cuda_test_util.h"
#include "kernels/ops.h"

namespace {

using namespace simclr;

using test::kCpu;
using test::kCuda;

}  // namespace

TEST_CASE("CUDA tensors report their device and hold their values", "[cuda][core][tensor]") {
  REQUIRE(cuda_device_count() >= 1);
  const Tensor t = full({3, 5}, 4.5, DType::f32, kCuda);
  REQUIRE(t.device() == kCuda);
  REQUIRE(t.device().str() == "cuda:0");
  REQUIRE(t.str() == "Tensor[3, 5] f32 cuda:0");
  REQUIRE(t.storage()->device() == kCuda);
  REQUIRE(t.storage()->nbytes() == 3 * 5 * 4);
  REQUIRE(item(sum(t)) == 4.5 * 15);
  // Views share the CUDA storage; a copy does not.
  const Tensor v = transpose(t, 0, 1);
  REQUIRE(v.storage() == t.storage());
  REQUIRE(clone(t).storage() != t.storage());
  // Data in and out through host vectors.
  const std::vector<int64_t> data{1, -2, 3, -4, 5, -6};
  const Tensor d = from_vector(data, {2, 3}, kCuda);
  REQUIRE(d.device() == kCuda);
  REQUIRE(to_vector<int64_t>(d) == data);
  REQUIRE(to_vector<int64_t>(transpose(d, 0, 1)) == std::vector<int64_t>{1, -4, -2, 5, 3, -6});
  REQUIRE(Device::parse("cuda:0") == kCuda);
}

TEST_CASE("mixing CPU and CUDA tensors in one op raises a clear error", "[cuda][core][tensor]") {
  const Tensor a = ones({3}, DType::f32, kCpu);
  const Tensor b = ones({3}, DType::f32, kCuda);
  REQUIRE_THROWS_AS(add(a, b), simclr::Error);
  REQUIRE_THROWS_WITH(
      add(a, b), Catch::Contains("add") && Catch::Contains("cpu") && Catch::Contains("cuda:0"));
  REQUIRE_THROWS_WITH(
      mul(b, a), Catch::Contains("mul") && Catch::Contains("cpu") && Catch::Contains("cuda:0"));
  REQUIRE_THROWS_WITH(maximum(b, a), Catch::Contains("cpu") && Catch::Contains("cuda:0"));
  REQUIRE_THROWS_WITH(
      matmul(ones({2, 3}, DType::f32, kCpu), ones({3, 2}, DType::f32, kCuda)),
      Catch::Contains("matmul") && Catch::Contains("cpu") && Catch::Contains("cuda:0"));
  // Moving one of them makes the op legal, on the device of both.
  const Tensor c = add(to(a, kCuda), b);
  REQUIRE(c.device() == kCuda);
  for (double v : test::values(c)) REQUIRE(v == 2.0);
  // copy_ moves data across devices by design.
  Tensor dst = zeros({3}, DType::f32, kCuda);
  copy_(dst, full({3}, 7.0, DType::f32, kCpu));
  for (double v : test::values(dst)) REQUIRE(v == 7.0);
}

TEST_CASE("a tensor on a CUDA device that does not exist raises an error naming it",
          "[cuda][core][tensor]") {
  const Device missing = Device::cuda(999);
  REQUIRE(missing.str() == "cuda:999");
  REQUIRE_THROWS_AS(Tensor::empty({4}, DType::f32, missing), simclr::Error);
  REQUIRE_THROWS_WITH(Tensor::empty({4}, DType::f32, missing), Catch::Contains("cuda:999"));
  REQUIRE_THROWS_WITH(zeros({2, 2}, DType::f32, missing), Catch::Contains("cuda:999"));
  REQUIRE_THROWS_WITH(to(ones({4}, DType::f32, kCpu), missing), Catch::Contains("cuda:999"));
  REQUIRE_THROWS_WITH(cuda_caching_allocator(999), Catch::Contains("cuda:999"));
  // The failures leave the real device usable.
  const Tensor t = full({4}, 1.25, DType::f32, kCuda);
  for (double v : test::values(t)) REQUIRE(v == 1.25);
}
