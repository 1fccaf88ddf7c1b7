// Gradient all-reduce in buckets (DESIGN.md step 7): the parameters' gradients are packed into a
// few flat buffers of about `bucket_bytes` each, and each buffer is all-reduced with one
// collective and divided by the world size, so every rank ends with the average gradient.
//
// This version is synchronous: all_reduce_average() runs after backward has finished, one bucket
// after another on the current stream. Launching each bucket as soon as its last gradient is
// ready, on a second stream, so that communication overlaps the rest of backward, is future work;
// the bucket layout (parameters in reverse order, the order in which backward produces their
// gradients) is already the one that version will use.
#pragma once

#include <cstddef>
#include <vector>

#include "core/tensor.h"
#include "dist/process_group.h"

namespace simclr {

class GradBucketer {
 public:
  static constexpr size_t kDefaultBucketBytes = 25u << 20;  // 25 MiB, as DDP

  // `parameters`: the leaves whose gradients are synchronized (handles to the same tensors as the
  // model's; all ranks must pass the same list in the same order). A bucket holds parameters of
  // one dtype and device, and closes once it reaches bucket_bytes (a parameter larger than that
  // gets a bucket of its own). The group must outlive the bucketer.
  GradBucketer(ProcessGroup& group, std::vector<Tensor> parameters,
               size_t bucket_bytes = kDefaultBucketBytes);

  // Every parameter's .grad() <- the average over the ranks of its .grad(). A parameter with no
  // gradient on this rank counts as zeros and gets a gradient. Collective: every rank calls it.
  // The flat buffers are allocated on the first call and reused afterwards.
  void all_reduce_average();

  size_t num_buckets() const { return buckets_.size(); }
  // The indices into `parameters` of each bucket's members.
  std::vector<std::vector<size_t>> bucket_members() const;
  size_t bucket_bytes(size_t bucket) const;

 private:
  struct Bucket {
    std::vector<size_t> members;
    std::vector<int64_t> offsets;  // in elements, into the flat buffer
    int64_t numel = 0;
    DType dtype = DType::f32;
    Device device;
    Tensor flat;
  };
  ProcessGroup& group_;
  std::vector<Tensor> parameters_;
  std::vector<Bucket> buckets_;
};

}  // namespace simclr
