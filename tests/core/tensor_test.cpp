#include <catch2/catch.hpp>

#include "core/tensor.h"
#include "kernels/ops.h"

using namespace simclr;

TEST_CASE("empty tensors are contiguous with the shape asked", "[core]") {
  Tensor t = Tensor::empty({2, 3, 4}, DType::bf16);
  REQUIRE(t.shape() == Shape({2, 3, 4}));
  REQUIRE(t.strides() == Strides{12, 4, 1});
  REQUIRE(t.numel() == 24);
  REQUIRE(t.nbytes() == 48);
  REQUIRE(t.is_contiguous());
  REQUIRE(t.device() == Device::cpu());
  REQUIRE(t.size(-1) == 4);
  REQUIRE(reinterpret_cast<uintptr_t>(t.data_ptr()) % CpuAllocator::kAlignment == 0);
  REQUIRE_THROWS_WITH(Tensor::empty({2, -1}), Catch::Contains("negative dimension"));
  REQUIRE_THROWS_WITH(t.data<float>(), Catch::Contains("the tensor holds bf16"));
  REQUIRE_THROWS_WITH(Tensor().shape(), Catch::Contains("undefined tensor"));
}

TEST_CASE("as_strided views share storage and stay inside it", "[core]") {
  Tensor t = Tensor::empty({4, 5});
  Tensor col = t.as_strided({4}, {5}, 2);  // column 2
  REQUIRE(col.storage() == t.storage());
  REQUIRE_FALSE(col.is_contiguous());
  REQUIRE(col.data_ptr() == static_cast<float*>(t.data_ptr()) + 2);
  REQUIRE_THROWS_WITH(t.as_strided({5}, {5}, 0), Catch::Contains("reaches element 20") &&
                                                     Catch::Contains("storage of 20 elements"));
  REQUIRE_THROWS_WITH(t.as_strided({2, 2}, {1}, 0), Catch::Contains("1 strides were given"));
}

TEST_CASE("from_blob wraps memory and releases it with the last view", "[core]") {
  std::vector<float> data{1, 2, 3, 4, 5, 6};
  bool released = false;
  {
    Tensor t = Tensor::from_blob(data.data(), {2, 3}, DType::f32, Device::cpu(),
                                 [&](void* p) { released = p == data.data(); });
    Tensor row = slice(t, 0, 1, 2);
    t = Tensor();
    REQUIRE_FALSE(released);
    REQUIRE(to_vector<float>(row) == std::vector<float>{4, 5, 6});
  }
  REQUIRE(released);
}

TEST_CASE("tensors on different devices are refused with both devices named", "[core]") {
  // Host memory that only claims to be on cuda:0: the check fires before any kernel runs.
  std::vector<float> host(6, 1.0f);
  Tensor fake_gpu = Tensor::from_blob(host.data(), {2, 3}, DType::f32, Device::cuda(0));
  Tensor cpu = ones({2, 3});
  REQUIRE_THROWS_WITH(add(cpu, fake_gpu), Catch::Contains("add: expected tensors on one device") &&
                                              Catch::Contains("got cpu and cuda:0"));
  REQUIRE_THROWS_WITH(matmul(cpu, fake_gpu),
                      Catch::Contains("matmul") && Catch::Contains("cuda:0"));
}

TEST_CASE("tensors of different dtypes are refused with both dtypes named", "[core]") {
  Tensor a = ones({3}), b = ones({3}, DType::f64);
  REQUIRE_THROWS_WITH(mul(a, b), Catch::Contains("mul: expected tensors of one dtype") &&
                                     Catch::Contains("got f32 and f64"));
}

TEST_CASE("only floating leaves can require grad", "[core]") {
  Tensor i = zeros({2}, DType::i32);
  REQUIRE_THROWS_WITH(i.set_requires_grad(true), Catch::Contains("only floating tensors"));
  Tensor x = ones({2});
  x.set_requires_grad(true);
  Tensor y = mul(x, 2.0);
  REQUIRE_THROWS_WITH(y.set_requires_grad(false),
                      Catch::Contains("only leaf tensors") && Catch::Contains("mul_scalar"));
  REQUIRE_FALSE(y.detach().requires_grad());
  REQUIRE(y.detach().storage() == y.storage());
}
