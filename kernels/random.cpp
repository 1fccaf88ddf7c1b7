// Random fills from a Philox generator: the same (seed, offset) gives the same tensor on CPU and
// GPU.
#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace simclr {

namespace {

Tensor& random_fill(Tensor& t, RandomKind kind, double a, double b, Generator* gen,
                    const char* op) {
  detail::check_floating(t, op);
  SIMCLR_CHECK(!(grad_enabled() && t.requires_grad()), op,
               ": in-place write into a tensor that requires grad: ", t.str());
  Generator& g = gen ? *gen : default_generator();
  const uint64_t n = static_cast<uint64_t>(t.numel());
  // Blocks consumed (kernel_decls.inc): one per four elements, or up to one per element for f64.
  const uint64_t blocks = t.dtype() == DType::f64 ? n : (n + 3) / 4;
  const uint64_t first = g.reserve(blocks);
  SIMCLR_DISPATCH(t.device(), random, kind, t.dtype(), detail::layout_of(t), t.data_ptr(), g.seed(),
                  first, a, b, current_stream(t.device()));
  return t;
}

}  // namespace

Tensor& uniform_(Tensor& t, double low, double high, Generator* gen) {
  SIMCLR_CHECK(low <= high, "uniform_: expected low <= high, got [", low, ", ", high, ")");
  return random_fill(t, RandomKind::uniform, low, high, gen, "uniform_");
}

Tensor& normal_(Tensor& t, double mean, double std, Generator* gen) {
  SIMCLR_CHECK(std >= 0, "normal_: expected std >= 0, got ", std);
  return random_fill(t, RandomKind::normal, mean, std, gen, "normal_");
}

Tensor rand(const Shape& shape, DType dtype, Device device, Generator* gen) {
  Tensor t = Tensor::empty(shape, dtype, device);
  return uniform_(t, 0.0, 1.0, gen);
}

Tensor randn(const Shape& shape, DType dtype, Device device, Generator* gen) {
  Tensor t = Tensor::empty(shape, dtype, device);
  return normal_(t, 0.0, 1.0, gen);
}

}  // namespace simclr
