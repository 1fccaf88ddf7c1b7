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

TEST_CASE("a post-accumulate hook sees the leaf's summed gradient once per backward",
          "[core][autograd]") {
  Tensor x = test::random_tensor({5}, DType::f64, 41);
  x.set_requires_grad(true);
  const Tensor c = test::random_tensor({5}, DType::f64, 42);
  std::vector<std::vector<double>> seen;
  std::vector<std::string> order;
  HookHandle first = register_post_accumulate_grad_hook(x, [&](const Tensor& leaf) {
    seen.push_back(test::values(leaf.grad()));
    order.push_back("first");
  });
  HookHandle second =
      register_post_accumulate_grad_hook(x, [&](const Tensor&) { order.push_back("second"); });
  // x reaches the loss along two paths: the hook runs once, after both are summed.
  sum(add(mul(x, c), mul(x, x))).backward();
  REQUIRE(seen.size() == 1);
  const std::vector<double> xs = test::values(x), cs = test::values(c);
  for (size_t i = 0; i < xs.size(); ++i) CHECK(seen[0][i] == Approx(cs[i] + 2 * xs[i]));
  CHECK(order == std::vector<std::string>{"first", "second"});
  // A second backward: the hook sees the accumulated gradient.
  sum(mul(x, c)).backward();
  REQUIRE(seen.size() == 2);
  for (size_t i = 0; i < xs.size(); ++i) CHECK(seen[1][i] == Approx(2 * cs[i] + 2 * xs[i]));
}

TEST_CASE("a removed or destroyed hook handle no longer runs", "[core][autograd]") {
  Tensor x = leaf({1, 2, 3});
  int calls = 0;
  {
    HookHandle scoped = register_post_accumulate_grad_hook(x, [&](const Tensor&) { ++calls; });
    sum(x).backward();
  }
  sum(x).backward();
  CHECK(calls == 1);
  HookHandle h = register_post_accumulate_grad_hook(x, [&](const Tensor&) { ++calls; });
  HookHandle moved = std::move(h);
  h.remove();  // a moved-from handle removes nothing
  sum(x).backward();
  CHECK(calls == 2);
  moved.remove();
  sum(x).backward();
  CHECK(calls == 2);
  CHECK(x.impl()->post_accumulate_grad_hooks.empty());
  // Setting .grad() by hand is not a backward: no hook runs.
  HookHandle again = register_post_accumulate_grad_hook(x, [&](const Tensor&) { ++calls; });
  x.set_grad(ones({3}, DType::f64));
  CHECK(calls == 2);
}

TEST_CASE("post-accumulate hooks need a leaf that requires grad", "[core][autograd]") {
  Tensor x = leaf({1, 2});
  const Tensor y = mul(x, 2.0);
  CHECK_THROWS_WITH(register_post_accumulate_grad_hook(y, [](const Tensor&) {}),
                    Catch::Contains("made by an op"));
  const Tensor plain = ones({2});
  CHECK_THROWS_WITH(register_post_accumulate_grad_hook(plain, [](const Tensor&) {}),
                    Catch::Contains("requires grad"));
  CHECK_THROWS_WITH(register_post_accumulate_grad_hook(x, nullptr), Catch::Contains("empty"));
}
