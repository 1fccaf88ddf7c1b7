#include "core/shape.h"

#include <algorithm>

#include "core/error.h"

namespace simclr {

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int64_t d : dims_) n *= d;
  return n;
}

std::string Shape::str() const {
  std::string s = "[";
  for (size_t i = 0; i < dims_.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(dims_[i]);
  }
  return s + "]";
}

int Shape::axis(int64_t dim, const char* op) const {
  const int64_t n = ndim();
  SIMCLR_CHECK(dim >= -n && dim < std::max<int64_t>(n, 1), op, ": dim ", dim,
               " is out of range for a tensor of shape ", str());
  return static_cast<int>(dim < 0 ? dim + n : dim);
}

Strides contiguous_strides(const Shape& shape) {
  Strides strides(static_cast<size_t>(shape.ndim()));
  int64_t s = 1;
  for (int i = shape.ndim() - 1; i >= 0; --i) {
    strides[static_cast<size_t>(i)] = s;
    s *= std::max<int64_t>(shape[i], 1);
  }
  return strides;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const int n = std::max(a.ndim(), b.ndim());
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    const int ia = a.ndim() - n + i, ib = b.ndim() - n + i;
    const int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    SIMCLR_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", a.str(), " and ", b.str(),
                 " do not broadcast (dimension ", i, ": ", da, " vs ", db, ")");
    out[static_cast<size_t>(i)] = da == 1 ? db : da;
  }
  return Shape(std::move(out));
}

}  // namespace simclr
