#include "simclr/loss.h"

#include <vector>

#include "core/error.h"
#include "kernels/nt_xent.h"
#include "kernels/ops.h"

namespace simclr {

Tensor nt_xent_composed(const Tensor& z, double temperature) {
  SIMCLR_CHECK(z.ndim() == 2 && z.size(0) >= 2 && z.size(0) % 2 == 0,
               "nt_xent_composed: expected z [m, d] with m even and >= 2, got ", z.str());
  const int64_t m = z.size(0), half = m / 2;
  // The diagonal gets a large negative logit (exp underflows to exactly 0, as with -inf, without
  // inf - inf in the backward); each row's target is its partner.
  std::vector<float> diagonal(static_cast<size_t>(m * m), 0.0f), partner(diagonal.size(), 0.0f);
  for (int64_t i = 0; i < m; ++i) {
    diagonal[static_cast<size_t>(i * m + i)] = -1e9f;
    partner[static_cast<size_t>(i * m + (i + half) % m)] = 1.0f;
  }
  const Tensor zn = nt_xent_normalize(z);
  const Tensor logits = matmul(zn, transpose(zn, 0, 1)) * (1.0 / temperature);
  const Tensor mask = to(to(from_vector(diagonal, Shape{m, m}), logits.device()), logits.dtype());
  const Tensor target = to(to(from_vector(partner, Shape{m, m}), logits.device()), logits.dtype());
  return sum(log_softmax(logits + mask, 1) * target) * (-1.0 / static_cast<double>(m));
}

Tensor simclr_loss(const Tensor& z, double temperature) {
  if (z.device().is_cpu()) return nt_xent_composed(z, temperature);
  return nt_xent(z, temperature, /*normalize=*/true);
}

}  // namespace simclr
