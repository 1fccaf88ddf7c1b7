// The trainer's CPU loss (the composed NT-Xent) equals the fused op, value and gradient.
#include <catch2/catch.hpp>

#include "kernels/nt_xent.h"
#include "kernels/ops.h"
#include "simclr/loss.h"
#include "test_util.h"

namespace simclr {

TEST_CASE("composed NT-Xent equals the fused op", "[simclr][loss]") {
  for (const auto& [m, d] : {std::pair<int64_t, int64_t>{2, 3}, {6, 17}, {130, 33}}) {
    INFO("m " << m << " d " << d);
    Tensor z1 = test::random_tensor({m, d}, DType::f64, 60 + static_cast<uint64_t>(m));
    Tensor z2 = clone(z1);
    z1.set_requires_grad(true);
    z2.set_requires_grad(true);
    const Tensor a = nt_xent_composed(z1, 0.3);
    const Tensor b = nt_xent(z2, 0.3, true);
    CHECK(item(a) == Approx(item(b)).epsilon(1e-12));
    a.backward();
    b.backward();
    const auto ga = to_vector<double>(z1.grad()), gb = to_vector<double>(z2.grad());
    for (size_t i = 0; i < ga.size(); ++i) CHECK(ga[i] == Approx(gb[i]).margin(1e-12));
  }
}

}  // namespace simclr
