// Shape and strides: small vectors of int64 extents, with the broadcasting rule.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace simclr {

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<int64_t> dims) : dims_(dims) {}
  explicit Shape(std::vector<int64_t> dims) : dims_(std::move(dims)) {}

  int ndim() const { return static_cast<int>(dims_.size()); }
  int64_t operator[](int i) const { return dims_[static_cast<size_t>(i)]; }
  int64_t& operator[](int i) { return dims_[static_cast<size_t>(i)]; }
  int64_t numel() const;
  const std::vector<int64_t>& dims() const { return dims_; }
  std::string str() const;  // "[2, 3]"
  bool operator==(const Shape&) const = default;

  // Normalizes a possibly negative axis into [0, ndim); throws naming `op` when out of range.
  int axis(int64_t dim, const char* op) const;

 private:
  std::vector<int64_t> dims_;
};

using Strides = std::vector<int64_t>;

Strides contiguous_strides(const Shape& shape);

// NumPy broadcasting; throws with both shapes in the message when they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace simclr
