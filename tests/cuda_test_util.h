// Helpers shared by the [cuda] tests (*_cuda_test.cpp): the two devices, a check that runs an op on
// the CPU and on CUDA and compares outputs and gradients, tolerances chosen per dtype, and
// comparisons bit for bit or of NaN and infinities. Built on test_util.h.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

#include "kernels/ops.h"
#include "test_util.h"

namespace simclr::test {

inline const Device kCpu = Device::cpu();
inline const Device kCuda = Device::cuda(0);

// Every dtype, in the order DType declares them.
inline const std::vector<DType> kAllDTypes{DType::f32, DType::f64, DType::bf16, DType::f16,
                                           DType::u8,  DType::i32, DType::i64};

// A tolerance for each floating dtype; f16's also serves any other dtype.
struct DTypeTolerances {
  Tolerance f64, f32, bf16, f16;

  Tolerance operator()(DType dtype) const {
    switch (dtype) {
      case DType::f64:
        return f64;
      case DType::f32:
        return f32;
      case DType::bf16:
        return bf16;
      default:
        return f16;
    }
  }
};

// What check_backends compares, and how closely.
struct BackendCheck {
  Tolerance forward;             // the outputs
  Tolerance backward;            // the gradients
  uint64_t weight_seed;          // of the fixed random w in sum(f(x) * w), drawn from [0.5, 1.5)
  bool gradients = true;         // false: the outputs only (ops without gradients)
  bool gradient_shapes = false;  // also require each CUDA gradient to have its input's shape
};

using BackendFn = std::function<Tensor(const std::vector<Tensor>&)>;

// Runs f on CPU leaves and on CUDA copies of them; compares the outputs and, when
// `check.gradients`, the gradients of sum(f(x) * w).
inline void check_backends(const BackendFn& f, const std::vector<Tensor>& inputs,
                           const BackendCheck& check) {
  std::vector<Tensor> xr, xc;
  for (const Tensor& t : inputs) {
    Tensor r = t.detach();
    Tensor c = to(t.detach(), kCuda);
    if (check.gradients) {
      r.set_requires_grad(true);
      c.set_requires_grad(true);
    }
    xr.push_back(r);
    xc.push_back(c);
  }
  const Tensor yr = f(xr);
  const Tensor yc = f(xc);
  REQUIRE(yc.device() == kCuda);
  REQUIRE(yc.dtype() == yr.dtype());
  {
    INFO("forward");
    SIMCLR_REQUIRE_CLOSE(yc, yr, check.forward);
  }
  if (!check.gradients) return;
  const Tensor w = random_tensor(yr.shape(), yr.dtype(), check.weight_seed, 0.5, 1.5);
  sum(mul(yr, w)).backward();
  sum(mul(yc, to(w, kCuda))).backward();
  for (size_t i = 0; i < xr.size(); ++i) {
    INFO("gradient of input " << i);
    REQUIRE(xr[i].grad().defined());
    REQUIRE(xc[i].grad().defined());
    REQUIRE(xc[i].grad().device() == kCuda);
    if (check.gradient_shapes) REQUIRE(xc[i].grad().shape() == inputs[i].shape());
    SIMCLR_REQUIRE_CLOSE(xc[i].grad(), xr[i].grad(), check.backward);
  }
}

// The tensor's elements in row-major order as host bytes (a contiguous CPU copy).
inline std::vector<unsigned char> host_bytes(const Tensor& t) {
  NoGradGuard no_grad;
  const Tensor host = contiguous(to(t.detach(), kCpu));
  std::vector<unsigned char> out(host.nbytes());
  if (!out.empty()) std::memcpy(out.data(), host.data_ptr(), out.size());
  return out;
}

inline void require_same_bytes(const Tensor& actual, const Tensor& expected) {
  INFO(actual.str() << " vs " << expected.str());
  REQUIRE(actual.shape() == expected.shape());
  REQUIRE(actual.dtype() == expected.dtype());
  REQUIRE(host_bytes(actual) == host_bytes(expected));
}

// Element by element, `got` is NaN where `want` is, the same infinity where `want` is infinite,
// and within rtol * |want| elsewhere (so exactly zero where `want` is zero).
inline void require_same_specials(const std::vector<double>& got, const std::vector<double>& want,
                                  double rtol) {
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i << ": " << got[i] << " vs " << want[i]);
    if (std::isnan(want[i])) {
      REQUIRE(std::isnan(got[i]));
    } else if (std::isinf(want[i])) {
      REQUIRE(got[i] == want[i]);
    } else {
      REQUIRE(std::abs(got[i] - want[i]) <= rtol * std::abs(want[i]));
    }
  }
}

}  // namespace simclr::test
