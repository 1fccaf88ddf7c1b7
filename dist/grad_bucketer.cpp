// GradBucketer: packing gradients into flat buffers, one all-reduce per buffer, unpacking.
#include "dist/grad_bucketer.h"

#include "core/autograd.h"
#include "kernels/ops.h"

namespace simclr {

GradBucketer::GradBucketer(ProcessGroup& group, std::vector<Tensor> parameters, size_t bucket_bytes)
    : group_(group), parameters_(std::move(parameters)) {
  SIMCLR_CHECK(bucket_bytes > 0, "GradBucketer: expected a positive bucket size");
  for (size_t k = parameters_.size(); k-- > 0;) {
    const Tensor& p = parameters_[k];
    SIMCLR_CHECK(p.defined(), "GradBucketer: parameter ", k, " is undefined");
    SIMCLR_CHECK(is_floating(p.dtype()), "GradBucketer: parameter ", k,
                 " is not floating point: ", p.str());
    const bool fits =
        !buckets_.empty() && buckets_.back().dtype == p.dtype() &&
        buckets_.back().device == p.device() &&
        static_cast<size_t>(buckets_.back().numel) * dtype_size(p.dtype()) < bucket_bytes;
    if (!fits) {
      buckets_.emplace_back();
      buckets_.back().dtype = p.dtype();
      buckets_.back().device = p.device();
    }
    Bucket& b = buckets_.back();
    b.members.push_back(k);
    b.offsets.push_back(b.numel);
    b.numel += p.numel();
  }
}

std::vector<std::vector<size_t>> GradBucketer::bucket_members() const {
  std::vector<std::vector<size_t>> out;
  for (const Bucket& b : buckets_) out.push_back(b.members);
  return out;
}

size_t GradBucketer::bucket_bytes(size_t bucket) const {
  SIMCLR_CHECK(bucket < buckets_.size(), "GradBucketer::bucket_bytes: no bucket ", bucket);
  const Bucket& b = buckets_[bucket];
  return static_cast<size_t>(b.numel) * dtype_size(b.dtype);
}

void GradBucketer::all_reduce_average() {
  NoGradGuard no_grad;
  const double inverse_world = 1.0 / static_cast<double>(group_.world_size());
  for (Bucket& b : buckets_) {
    if (!b.flat.defined()) b.flat = Tensor::empty({b.numel}, b.dtype, b.device);
    for (size_t i = 0; i < b.members.size(); ++i) {
      const Tensor& p = parameters_[b.members[i]];
      Tensor view = reshape(slice(b.flat, 0, b.offsets[i], b.offsets[i] + p.numel()), p.shape());
      if (p.grad().defined()) {
        copy_(view, p.grad());
      } else {
        fill_(view, 0.0);
      }
    }
    group_.all_reduce_sum_(b.flat);
    // One temporary per bucket for the scaling (reused by the caching allocator after the first
    // step), then each gradient gets its share in place.
    const Tensor averaged = mul(b.flat, inverse_world);
    for (size_t i = 0; i < b.members.size(); ++i) {
      Tensor p = parameters_[b.members[i]];
      const Tensor share =
          reshape(slice(averaged, 0, b.offsets[i], b.offsets[i] + p.numel()), p.shape());
      if (p.grad().defined()) {
        Tensor grad = p.grad();
        copy_(grad, share);
      } else {
        p.set_grad(clone(share));
      }
    }
  }
}

}  // namespace simclr
