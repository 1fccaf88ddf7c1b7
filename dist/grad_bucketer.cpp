// GradBucketer: the bucket layout, the hooks that launch a bucket once backward has produced all
// its gradients, and packing, all-reduce, division and unpacking.
#include "dist/grad_bucketer.h"

#include "kernels/ops.h"

namespace simclr {

GradBucketer::GradBucketer(ProcessGroup& group, std::vector<Tensor> parameters, size_t bucket_bytes,
                           bool overlap)
    : group_(group), parameters_(std::move(parameters)), overlap_(overlap) {
  SIMCLR_CHECK(bucket_bytes > 0, "GradBucketer: expected a positive bucket size");
  build_buckets(bucket_bytes);
  if (overlap_ && on_cuda()) {
    for (Bucket& b : buckets_) {
      b.ready = std::make_unique<Event>(group_.device().index);
      b.done = std::make_unique<Event>(group_.device().index);
    }
  }
  start_round();
  if (!overlap_) return;
  for (size_t k = 0; k < parameters_.size(); ++k) {
    if (!parameters_[k].requires_grad()) continue;
    hooks_.push_back(register_post_accumulate_grad_hook(
        parameters_[k], [this, k](const Tensor&) { on_gradient(k); }));
  }
}

GradBucketer::~GradBucketer() {
  hooks_.clear();
  // CPU: each Work's destructor waits for its MPI request. CUDA: the compute stream must not run
  // ahead of the unpacking into .grad() that the communication stream may still be doing.
  if (!overlap_ || !on_cuda()) return;
  for (size_t i = 0; i < next_launch_; ++i) {
    try {
      buckets_[i].done->wait(current_stream(group_.device()));
    } catch (...) {  // a destructor must not throw; a failed CUDA call is reported elsewhere
    }
  }
}

void GradBucketer::build_buckets(size_t bucket_bytes) {
  for (size_t k = parameters_.size(); k-- > 0;) {
    const Tensor& p = parameters_[k];
    SIMCLR_CHECK(p.defined(), "GradBucketer: parameter ", k, " is undefined");
    SIMCLR_CHECK(is_floating(p.dtype()), "GradBucketer: parameter ", k,
                 " is not floating point: ", p.str());
    SIMCLR_CHECK(p.device() == group_.device(), "GradBucketer: parameter ", k, " is ", p.str(),
                 " but the ", group_.backend(), " process group takes tensors on ",
                 group_.device().str());
    const bool fits =
        !buckets_.empty() && buckets_.back().dtype == p.dtype() &&
        static_cast<size_t>(buckets_.back().numel) * dtype_size(p.dtype()) < bucket_bytes;
    if (!fits) {
      buckets_.emplace_back();
      buckets_.back().dtype = p.dtype();
    }
    Bucket& b = buckets_.back();
    b.members.push_back(k);
    b.offsets.push_back(b.numel);
    b.numel += p.numel();
  }
  bucket_of_.assign(parameters_.size(), 0);
  for (size_t i = 0; i < buckets_.size(); ++i)
    for (size_t k : buckets_[i].members) bucket_of_[k] = i;
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

void GradBucketer::start_round() {
  arrived_.assign(parameters_.size(), false);
  for (Bucket& b : buckets_) b.waiting = b.members.size();
  next_launch_ = 0;
}

void GradBucketer::on_gradient(size_t parameter) {
  SIMCLR_CHECK(!arrived_[parameter], "GradBucketer: parameter ", parameter, " (",
               parameters_[parameter].str(),
               ") received a second gradient before all_reduce_average(); with overlap on, call "
               "all_reduce_average() after each backward (to accumulate gradients over several "
               "backward passes, construct the bucketer with overlap = false)");
  arrived_[parameter] = true;
  --buckets_[bucket_of_[parameter]].waiting;
  while (next_launch_ < buckets_.size() && buckets_[next_launch_].waiting == 0)
    launch(buckets_[next_launch_++]);
  for (size_t i = 0; i < next_launch_; ++i)
    if (buckets_[i].work) buckets_[i].work->poll();
}

void GradBucketer::all_reduce_average() {
  NoGradGuard no_grad;
  // On the current stream, before the launches below read them.
  for (Tensor& p : parameters_)
    if (!p.grad().defined()) p.set_grad(zeros_like(p.detach()));
  overlapped_ = next_launch_;
  while (next_launch_ < buckets_.size()) launch(buckets_[next_launch_++]);
  for (Bucket& b : buckets_) finish(b);
  start_round();
}

void GradBucketer::launch(Bucket& b) {
  NoGradGuard no_grad;
  if (!on_cuda()) {
    if (!b.flat.defined()) b.flat = Tensor::empty({b.numel}, b.dtype, group_.device());
    pack(b);
    b.work = group_.all_reduce_sum_async(b.flat);
    return;
  }
  // CUDA: everything in stream order, on the communication stream when overlapping.
  const Stream compute = current_stream(group_.device());
  const Stream comm = overlap_ ? group_.stream() : compute;
  if (overlap_) {
    b.ready->record(compute);
    b.ready->wait(comm);
  }
  StreamGuard on_comm(comm);
  if (!b.flat.defined()) b.flat = Tensor::empty({b.numel}, b.dtype, group_.device());
  pack(b);
  group_.all_reduce_sum_async(b.flat)->wait();
  unpack_average(b);
  if (overlap_) b.done->record(comm);
}

void GradBucketer::finish(Bucket& b) {
  if (on_cuda()) {
    if (overlap_) b.done->wait(current_stream(group_.device()));
    return;
  }
  b.work->wait();
  b.work.reset();
  unpack_average(b);
}

void GradBucketer::pack(Bucket& b) {
  for (size_t i = 0; i < b.members.size(); ++i) {
    const Tensor& p = parameters_[b.members[i]];
    Tensor view = reshape(slice(b.flat, 0, b.offsets[i], b.offsets[i] + p.numel()), p.shape());
    copy_(view, p.grad());
  }
}

void GradBucketer::unpack_average(Bucket& b) {
  // One temporary per bucket for the scaling (reused by the caching allocator after the first
  // step), then each gradient gets its share in place.
  const Tensor averaged = mul(b.flat, 1.0 / static_cast<double>(group_.world_size()));
  for (size_t i = 0; i < b.members.size(); ++i) {
    Tensor grad = parameters_[b.members[i]].grad();
    copy_(grad,
          reshape(slice(averaged, 0, b.offsets[i], b.offsets[i] + grad.numel()), grad.shape()));
  }
}

}  // namespace simclr
