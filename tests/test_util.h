// Helpers shared by the tests: random inputs from fixed seeds, tolerances per dtype, and
// comparisons that name the first element that differs.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/ops.h"

namespace simclr::test {

// Uniform in [low, high), never all zeros; `seed` makes each test's inputs its own.
inline Tensor random_tensor(const Shape& shape, DType dtype, uint64_t seed, double low = -1.0,
                            double high = 1.0, Device device = Device::cpu()) {
  Generator gen(seed);
  Tensor t = Tensor::empty(shape, dtype, device);
  return uniform_(t, low, high, &gen);
}

inline std::vector<double> values(const Tensor& t) {
  NoGradGuard no_grad;
  return to_vector<double>(to(t.detach(), DType::f64));
}

struct Tolerance {
  double rtol, atol;
};

inline Tolerance tolerance_for(DType dtype) {
  switch (dtype) {
    case DType::f64:
      return {1e-12, 1e-12};
    case DType::f32:
      return {1e-5, 1e-6};
    case DType::bf16:
      return {2e-2, 1e-2};
    case DType::f16:
      return {2e-3, 1e-3};
    default:
      return {0, 0};
  }
}

// The absolute part of a tolerance grows with the largest magnitude of the reference (at least 1).
inline Tolerance scaled(Tolerance tol, const Tensor& reference) {
  double largest = 1.0;
  for (double v : values(reference)) largest = std::max(largest, std::abs(v));
  return {tol.rtol, tol.atol * largest};
}

// Element-wise |a - b| <= atol + rtol * |b|, NaN never close; a message names the first miss.
inline std::string compare(const Tensor& a, const Tensor& b, Tolerance tol) {
  if (a.shape() != b.shape()) return "shapes differ: " + a.str() + " vs " + b.str();
  const std::vector<double> x = values(a), y = values(b);
  for (size_t i = 0; i < x.size(); ++i) {
    const double diff = std::abs(x[i] - y[i]);
    if (!(diff <= tol.atol + tol.rtol * std::abs(y[i]))) {
      std::ostringstream msg;
      msg << "element " << i << " of " << a.str() << ": " << x[i] << " vs " << y[i];
      return msg.str();
    }
  }
  return "";
}

}  // namespace simclr::test

#define SIMCLR_REQUIRE_CLOSE(a, b, tol)                                       \
  do {                                                                        \
    const std::string simclr_msg_ = ::simclr::test::compare((a), (b), (tol)); \
    INFO(simclr_msg_);                                                        \
    REQUIRE(simclr_msg_.empty());                                             \
  } while (false)
