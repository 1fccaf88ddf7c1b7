#include "layers/sequential.h"

namespace simclr {

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (auto& m : modules_) y = m->forward(y);
  return y;
}

Tensor GlobalAvgPool2d::forward(const Tensor& x) {
  SIMCLR_CHECK(x.ndim() == 4, "GlobalAvgPool2d: expected input [n, h, w, c], got ",
               x.shape().str());
  return mean(x, {1, 2});
}

}  // namespace simclr
