// Views: new sizes and strides over the same storage (reshape copies only when it must).
// Their gradients put the output gradient back into the input's shape.
#include <algorithm>
#include <numeric>

#include "kernels/dispatch.h"
#include "kernels/ops.h"

namespace simclr {

namespace {

Shape infer_shape(const Shape& shape, int64_t numel, const Tensor& t) {
  std::vector<int64_t> dims = shape.dims();
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < shape.ndim(); ++i) {
    if (dims[static_cast<size_t>(i)] == -1) {
      SIMCLR_CHECK(infer < 0, "reshape: more than one -1 in shape ", shape.str());
      infer = i;
    } else {
      SIMCLR_CHECK(dims[static_cast<size_t>(i)] >= 0, "reshape: invalid shape ", shape.str());
      known *= dims[static_cast<size_t>(i)];
    }
  }
  if (infer >= 0) {
    SIMCLR_CHECK(known > 0 && numel % known == 0, "reshape: shape ", shape.str(),
                 " cannot hold the ", numel, " elements of ", t.str());
    dims[static_cast<size_t>(infer)] = numel / known;
  }
  Shape out(dims);
  SIMCLR_CHECK(out.numel() == numel, "reshape: shape ", shape.str(), " cannot hold the ", numel,
               " elements of ", t.str());
  return out;
}

}  // namespace

Tensor reshape(const Tensor& t, const Shape& shape) {
  const Shape target = infer_shape(shape, t.numel(), t);
  const Tensor source = contiguous(t);
  Tensor out = source.as_strided(target, contiguous_strides(target), source.offset());
  const Shape in_shape = t.shape();
  return detail::record(out, "Reshape", {source}, {},
                        [in_shape](Node&, const std::vector<Tensor>& g) {
                          return std::vector<Tensor>{reshape(g[0], in_shape)};
                        });
}

Tensor flatten(const Tensor& t, int64_t start_dim, int64_t end_dim) {
  if (t.ndim() == 0) return reshape(t, Shape{1});
  const int start = t.shape().axis(start_dim, "flatten");
  const int end = t.shape().axis(end_dim, "flatten");
  SIMCLR_CHECK(start <= end, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim);
  std::vector<int64_t> dims;
  for (int i = 0; i < start; ++i) dims.push_back(t.shape()[i]);
  int64_t merged = 1;
  for (int i = start; i <= end; ++i) merged *= t.shape()[i];
  dims.push_back(merged);
  for (int i = end + 1; i < t.ndim(); ++i) dims.push_back(t.shape()[i]);
  return reshape(t, Shape(dims));
}

Tensor permute(const Tensor& t, const std::vector<int64_t>& dims) {
  SIMCLR_CHECK(static_cast<int>(dims.size()) == t.ndim(), "permute: ", dims.size(),
               " dims given for a tensor of shape ", t.shape().str());
  std::vector<int64_t> sizes(dims.size()), strides(dims.size());
  std::vector<int64_t> inverse(dims.size(), -1);
  for (size_t i = 0; i < dims.size(); ++i) {
    const int d = t.shape().axis(dims[i], "permute");
    SIMCLR_CHECK(inverse[static_cast<size_t>(d)] < 0, "permute: dim ", dims[i], " repeated");
    inverse[static_cast<size_t>(d)] = static_cast<int64_t>(i);
    sizes[i] = t.shape()[d];
    strides[i] = t.strides()[static_cast<size_t>(d)];
  }
  Tensor out = t.as_strided(Shape(sizes), strides, t.offset());
  return detail::record(out, "Permute", {t}, {}, [inverse](Node&, const std::vector<Tensor>& g) {
    return std::vector<Tensor>{permute(g[0], inverse)};
  });
}

Tensor transpose(const Tensor& t, int64_t dim0, int64_t dim1) {
  std::vector<int64_t> dims(static_cast<size_t>(t.ndim()));
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[static_cast<size_t>(t.shape().axis(dim0, "transpose"))],
            dims[static_cast<size_t>(t.shape().axis(dim1, "transpose"))]);
  return permute(t, dims);
}

Tensor slice(const Tensor& t, int64_t dim, int64_t start, int64_t end, int64_t step) {
  const int d = t.shape().axis(dim, "slice");
  SIMCLR_CHECK(step > 0, "slice: expected step > 0, got ", step);
  const int64_t size = t.shape()[d];
  // Python's rules: negative indices count from the end; out-of-range bounds are clamped.
  auto clamp = [size](int64_t i) {
    if (i < 0) i += size;
    return std::clamp<int64_t>(i, 0, size);
  };
  start = clamp(start);
  end = std::max(clamp(end), start);
  std::vector<int64_t> sizes = t.shape().dims();
  Strides strides = t.strides();
  sizes[static_cast<size_t>(d)] = (end - start + step - 1) / step;
  strides[static_cast<size_t>(d)] *= step;
  Tensor out =
      t.as_strided(Shape(sizes), strides, t.offset() + start * t.strides()[static_cast<size_t>(d)]);
  const Shape in_shape = t.shape();
  return detail::record(out, "Slice", {t}, {}, [=](Node&, const std::vector<Tensor>& g) {
    Tensor grad = zeros(in_shape, g[0].dtype(), g[0].device());
    Tensor window = slice(grad, d, start, end, step);
    copy_(window, g[0]);
    return std::vector<Tensor>{grad};
  });
}

Tensor expand(const Tensor& t, const Shape& shape) {
  SIMCLR_CHECK(shape.ndim() >= t.ndim(), "expand: cannot expand ", t.shape().str(), " to ",
               shape.str());
  const int lead = shape.ndim() - t.ndim();
  std::vector<int64_t> sizes = shape.dims();
  Strides strides(static_cast<size_t>(shape.ndim()), 0);
  for (int i = 0; i < shape.ndim(); ++i) {
    if (i < lead) continue;
    const int64_t size = t.shape()[i - lead];
    if (sizes[static_cast<size_t>(i)] == -1) sizes[static_cast<size_t>(i)] = size;
    SIMCLR_CHECK(size == sizes[static_cast<size_t>(i)] || size == 1, "expand: shapes ",
                 t.shape().str(), " and ", shape.str(), " do not broadcast");
    if (size != 1) strides[static_cast<size_t>(i)] = t.strides()[static_cast<size_t>(i - lead)];
  }
  Tensor out = t.as_strided(Shape(sizes), strides, t.offset());
  const Shape in_shape = t.shape();
  return detail::record(out, "Expand", {t}, {}, [in_shape](Node&, const std::vector<Tensor>& g) {
    return std::vector<Tensor>{sum_to(g[0], in_shape)};
  });
}

Tensor unsqueeze(const Tensor& t, int64_t dim) {
  const int64_t n = t.ndim() + 1;
  SIMCLR_CHECK(dim >= -n && dim < n, "unsqueeze: dim ", dim, " out of range for ", t.str());
  const size_t d = static_cast<size_t>(dim < 0 ? dim + n : dim);
  std::vector<int64_t> dims = t.shape().dims();
  dims.insert(dims.begin() + static_cast<std::ptrdiff_t>(d), 1);
  return reshape(t, Shape(dims));
}

Tensor squeeze(const Tensor& t, int64_t dim) {
  const int d = t.shape().axis(dim, "squeeze");
  SIMCLR_CHECK(t.shape()[d] == 1, "squeeze: dim ", dim, " of ", t.str(), " has size ", t.shape()[d],
               ", expected 1");
  std::vector<int64_t> dims = t.shape().dims();
  dims.erase(dims.begin() + d);
  return reshape(t, Shape(dims));
}

}  // namespace simclr
