// Every differentiable op against central differences in fp64.
#include <catch2/catch.hpp>

#include "kernels/dispatch.h"
#include "kernels/gradcheck.h"
#include "kernels/nn_ops.h"
#include "test_util.h"

using namespace simclr;
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

namespace {

Tensor input(const Shape& shape, uint64_t seed, double low = -1.0, double high = 1.0) {
  return test::random_tensor(shape, DType::f64, seed, low, high);
}

// Random values with |v| >= 0.1, so abs, relu, max and min stay away from their kinks.
Tensor away_from_zero(const Shape& shape, uint64_t seed) {
  std::vector<double> v = test::values(input(shape, seed));
  for (double& x : v) x += x < 0 ? -0.1 : 0.1;
  return from_vector(v, shape);
}

void check(const Fn& f, const std::vector<Tensor>& inputs) {
  const GradcheckResult r = gradcheck(f, inputs);
  INFO(r.message);
  REQUIRE(r.ok);
}

}  // namespace

TEST_CASE("gradcheck unary ops", "[kernels][gradcheck]") {
  const std::vector<std::pair<const char*, Fn>> ops = {
      {"neg", [](auto& x) { return neg(x[0]); }},
      {"exp", [](auto& x) { return exp(x[0]); }},
      {"abs", [](auto& x) { return abs(x[0]); }},
      {"relu", [](auto& x) { return relu(x[0]); }},
      {"sigmoid", [](auto& x) { return sigmoid(x[0]); }},
      {"tanh", [](auto& x) { return tanh(x[0]); }},
      {"square", [](auto& x) { return square(x[0]); }},
      {"add_scalar", [](auto& x) { return add(x[0], 0.75); }},
      {"mul_scalar", [](auto& x) { return mul(x[0], -1.5); }},
  };
  for (const auto& [name, f] : ops) {
    INFO(name);
    check(f, {away_from_zero({3, 5}, 11)});
  }
}

TEST_CASE("gradcheck unary ops on positive inputs", "[kernels][gradcheck]") {
  const std::vector<std::pair<const char*, Fn>> ops = {
      {"log", [](auto& x) { return log(x[0]); }},
      {"sqrt", [](auto& x) { return sqrt(x[0]); }},
      {"rsqrt", [](auto& x) { return rsqrt(x[0]); }},
      {"pow", [](auto& x) { return pow(x[0], 2.5); }},
      {"pow negative", [](auto& x) { return pow(x[0], -1.5); }},
  };
  for (const auto& [name, f] : ops) {
    INFO(name);
    check(f, {input({4, 3}, 12, 0.5, 2.0)});
  }
}

TEST_CASE("gradcheck binary ops with broadcasting", "[kernels][gradcheck]") {
  const std::vector<std::pair<const char*, Fn>> ops = {
      {"add", [](auto& x) { return add(x[0], x[1]); }},
      {"sub", [](auto& x) { return sub(x[0], x[1]); }},
      {"mul", [](auto& x) { return mul(x[0], x[1]); }},
      {"div", [](auto& x) { return div(x[0], x[1]); }},
      {"maximum", [](auto& x) { return maximum(x[0], x[1]); }},
      {"minimum", [](auto& x) { return minimum(x[0], x[1]); }},
  };
  for (const auto& [name, f] : ops) {
    INFO(name);
    check(f, {away_from_zero({3, 1, 5}, 13), input({4, 1}, 14, 0.5, 1.5)});
    check(f, {away_from_zero({2, 3}, 15), input({2, 3}, 16, 0.5, 1.5)});
  }
}

TEST_CASE("gradcheck reductions", "[kernels][gradcheck]") {
  const std::vector<std::pair<const char*, Fn>> ops = {
      {"sum all", [](auto& x) { return sum(x[0]); }},
      {"sum dim", [](auto& x) { return sum(x[0], {1}); }},
      {"sum dims keepdim",
       [](auto& x) {
         return sum(x[0], {0, 2}, true);
       }},
      {"mean", [](auto& x) { return mean(x[0], {-1}); }},
      {"max", [](auto& x) { return max(x[0], {1}); }},
      {"min keepdim", [](auto& x) { return min(x[0], {0}, true); }},
      {"norm", [](auto& x) { return norm(x[0], {2}); }},
      {"norm all", [](auto& x) { return norm(x[0]); }},
      {"sum_to",
       [](auto& x) {
         return sum_to(x[0], Shape{3, 1});
       }},
  };
  for (const auto& [name, f] : ops) {
    INFO(name);
    check(f, {input({2, 3, 5}, 17)});
  }
}

TEST_CASE("gradcheck views and copies", "[kernels][gradcheck]") {
  const std::vector<std::pair<const char*, Fn>> ops = {
      {"reshape",
       [](auto& x) {
         return reshape(x[0], Shape{5, -1});
       }},
      {"reshape of transpose", [](auto& x) { return reshape(transpose(x[0], 0, 2), Shape{-1}); }},
      {"flatten", [](auto& x) { return flatten(x[0], 1); }},
      {"transpose", [](auto& x) { return mul(transpose(x[0], 0, 1), 2.0); }},
      {"permute",
       [](auto& x) {
         return permute(x[0], {2, 0, 1});
       }},
      {"slice", [](auto& x) { return slice(x[0], 2, 1, 5, 2); }},
      {"expand",
       [](auto& x) {
         return expand(slice(x[0], 1, 0, 1), Shape{4, 2, 3, 5});
       }},
      {"unsqueeze squeeze", [](auto& x) { return squeeze(unsqueeze(x[0], 1), 1); }},
      {"clone", [](auto& x) { return clone(x[0]); }},
      {"contiguous", [](auto& x) { return contiguous(transpose(x[0], 1, 2)); }},
  };
  for (const auto& [name, f] : ops) {
    INFO(name);
    check(f, {input({2, 3, 5}, 18)});
  }
}

TEST_CASE("gradcheck matmul", "[kernels][gradcheck]") {
  check([](auto& x) { return matmul(x[0], x[1]); }, {input({3, 4}, 19), input({4, 5}, 20)});
  check([](auto& x) { return matmul(transpose(x[0], 0, 1), x[1]); },
        {input({4, 3}, 21), input({4, 2}, 22)});
  check([](auto& x) { return matmul(x[0], transpose(x[1], 0, 1)); },
        {input({3, 4}, 23), input({2, 4}, 24)});
  check([](auto& x) { return matmul(x[0], x[1]); }, {input({2, 3, 4}, 25), input({2, 4, 5}, 26)});
  check([](auto& x) { return matmul(x[0], x[1]); }, {input({2, 3, 4}, 27), input({4, 5}, 28)});
  check([](auto& x) { return matmul(x[0], x[1]); }, {input({3, 4}, 29), input({2, 4, 5}, 30)});
}

TEST_CASE("gradcheck softmax and log_softmax", "[kernels][gradcheck]") {
  for (int64_t dim : {0, 1, -1}) {
    INFO("dim " << dim);
    check([dim](auto& x) { return softmax(x[0], dim); }, {input({3, 4, 5}, 31)});
    check([dim](auto& x) { return log_softmax(x[0], dim); }, {input({3, 4, 5}, 32)});
  }
}

TEST_CASE("gradcheck catches a wrong backward", "[kernels][gradcheck]") {
  // An op whose backward is off by a factor of two: the check must fail and say where.
  const Fn wrong = [](const std::vector<Tensor>& x) {
    Tensor out;
    {
      NoGradGuard no_grad;
      out = mul(x[0], 3.0);
    }
    return detail::record(out, "Wrong", {x[0]}, {}, [](Node&, const std::vector<Tensor>& g) {
      return std::vector<Tensor>{mul(g[0], 6.0)};
    });
  };
  const GradcheckResult r = gradcheck(wrong, {input({2, 2}, 33)});
  REQUIRE_FALSE(r.ok);
  REQUIRE_THAT(r.message, Catch::Contains("input 0") && Catch::Contains("central differences"));
}

TEST_CASE("gradcheck refuses non-f64 inputs", "[kernels][gradcheck]") {
  REQUIRE_THROWS_WITH(gradcheck([](auto& x) { return x[0]; }, {ones({2})}),
                      Catch::Contains("expected f64 CPU inputs"));
}

TEST_CASE("gradcheck linear", "[kernels][gradcheck]") {
  check([](auto& x) { return linear(x[0], x[1], x[2]); },
        {input({2, 3, 4}, 34), input({5, 4}, 35), input({5}, 36)});
  check([](auto& x) { return linear(x[0], x[1], Tensor()); },
        {input({3, 4}, 37), input({2, 4}, 38)});
}
