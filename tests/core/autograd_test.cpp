#include <catch2/catch.hpp>

#include "core/autograd.h"
#include "kernels/dispatch.h"
#include "kernels/ops.h"
#include "test_util.h"

using namespace simclr;

namespace {
Tensor leaf(const std::vector<double>& v) {
  Tensor t = from_vector(v, Shape{static_cast<int64_t>(v.size())});
  t.set_requires_grad(true);
  return t;
}
}  // namespace

TEST_CASE("backward from a scalar fills the leaves' gradients", "[core][autograd]") {
  Tensor x = leaf({1, 2, 3});
  Tensor y = leaf({4, 5, 6});
  Tensor loss = sum(mul(mul(x, y), x));  // sum x^2 y
  loss.backward();
  REQUIRE(test::values(x.grad()) == std::vector<double>{8, 20, 36});  // 2 x y
  REQUIRE(test::values(y.grad()) == std::vector<double>{1, 4, 9});    // x^2
  REQUIRE(x.is_leaf());
  REQUIRE_FALSE(loss.is_leaf());
}

TEST_CASE("gradients accumulate in leaves across backward calls", "[core][autograd]") {
  Tensor x = leaf({1, 2});
  sum(mul(x, 3.0)).backward();
  sum(mul(x, 3.0)).backward();
  REQUIRE(test::values(x.grad()) == std::vector<double>{6, 6});
  x.set_grad(Tensor());
  sum(x).backward();
  REQUIRE(test::values(x.grad()) == std::vector<double>{1, 1});
}

TEST_CASE("a tensor used twice gets the sum of both paths", "[core][autograd]") {
  Tensor x = leaf({2, -1});
  Tensor a = exp(x);
  Tensor loss = sum(add(mul(a, a), a));  // e^{2x} + e^x
  loss.backward();
  const std::vector<double> g = test::values(x.grad());
  for (size_t i = 0; i < 2; ++i) {
    const double v = i == 0 ? 2.0 : -1.0;
    REQUIRE(g[i] == Approx(2 * std::exp(2 * v) + std::exp(v)));
  }
}

TEST_CASE("no-grad scopes record nothing", "[core][autograd]") {
  Tensor x = leaf({1, 2});
  {
    NoGradGuard guard;
    Tensor y = mul(x, 2.0);
    REQUIRE_FALSE(y.requires_grad());
    REQUIRE(y.grad_fn() == nullptr);
    REQUIRE_FALSE(grad_enabled());
  }
  REQUIRE(grad_enabled());
  REQUIRE(mul(x, 2.0).requires_grad());
}

TEST_CASE("the graph is freed after backward and a second backward is refused",
          "[core][autograd]") {
  Tensor x = leaf({1, 2, 3});
  Tensor y = exp(x);
  Tensor loss = sum(y);
  std::weak_ptr<Node> exp_node = y.grad_fn();
  REQUIRE(exp_node.lock()->saved.size() == 2);
  loss.backward();
  REQUIRE(exp_node.lock()->released());
  REQUIRE(exp_node.lock()->saved.empty());
  REQUIRE_THROWS_WITH(loss.backward(),
                      Catch::Contains("a second time") && Catch::Contains("retain_graph=true"));
}

TEST_CASE("retain_graph keeps the graph for another backward", "[core][autograd]") {
  Tensor x = leaf({0.5});
  Tensor loss = sum(exp(x));
  loss.backward(Tensor(), true);
  loss.backward();
  REQUIRE(test::values(x.grad())[0] == Approx(2 * std::exp(0.5)));
}

TEST_CASE("backward of a non-scalar needs an output gradient", "[core][autograd]") {
  Tensor x = leaf({1, 2, 3});
  Tensor y = mul(x, 2.0);
  REQUIRE_THROWS_WITH(y.backward(), Catch::Contains("only for a tensor of one element") &&
                                        Catch::Contains("got [3]"));
  y.backward(from_vector(std::vector<double>{1, 10, 100}, Shape{3}));
  REQUIRE(test::values(x.grad()) == std::vector<double>{2, 20, 200});
  Tensor z = mul(x, 2.0);
  REQUIRE_THROWS_WITH(z.backward(ones({2}, DType::f64)), Catch::Contains("does not match"));
}

TEST_CASE("backward needs a tensor that requires grad", "[core][autograd]") {
  Tensor c = ones({1});
  REQUIRE_THROWS_WITH(c.backward(), Catch::Contains("does not require grad"));
}

TEST_CASE("inputs that do not require grad get no gradient", "[core][autograd]") {
  Tensor x = leaf({1, 2});
  Tensor c = from_vector(std::vector<double>{3, 4}, Shape{2});
  sum(mul(x, c)).backward();
  REQUIRE(test::values(x.grad()) == std::vector<double>{3, 4});
  REQUIRE_FALSE(c.grad().defined());
}

TEST_CASE("a wrong-shaped gradient from a node is caught", "[core][autograd]") {
  Tensor x = leaf({1, 2, 3});
  Tensor y = detail::record(
      mul(x.detach(), 1.0), "BadNode", {x}, {},
      [](Node&, const std::vector<Tensor>&) { return std::vector<Tensor>{ones({2}, DType::f64)}; });
  REQUIRE_THROWS_WITH(sum(y).backward(),
                      Catch::Contains("backward of BadNode returned a gradient Tensor[2]") &&
                          Catch::Contains("which is [3] f64 cpu"));
}
