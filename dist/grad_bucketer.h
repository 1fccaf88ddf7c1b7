// Gradient all-reduce in buckets, overlapped with backward (DESIGN.md step 7): the parameters'
// gradients are packed into a few flat buffers of about `bucket_bytes` each, and each buffer is
// all-reduced with one collective and divided by the world size, so every rank ends with the
// average gradient.
//
// Buckets hold the parameters in reverse order, the order in which backward produces their
// gradients. With overlap on, a post-accumulate-grad hook on every parameter (core/autograd.h)
// marks its gradient ready; once every member of a bucket is ready, and every bucket before it
// has been launched (so that all ranks launch in the same order), the bucket is launched while
// backward goes on with the layers below:
//   - CUDA: an event on the current (compute) stream, which the group's communication stream
//     waits for; then, on that stream: pack, NCCL all-reduce, divide, unpack into .grad(), and an
//     event that the compute stream waits for in all_reduce_average() (the host never waits);
//   - CPU: pack, MPI_Iallreduce (non-blocking); later hooks poll it so that MPI moves it along,
//     and all_reduce_average() waits for it, divides and unpacks.
// all_reduce_average() launches what backward did not (buckets with a parameter that got no
// gradient: it counts as zeros) and finishes every bucket. With overlap off, everything happens
// in all_reduce_average(). Both do the same packing, collective and division: the same bits.
//
// On NCCL the launches share the communicator with any collective that backward itself runs
// (SyncBatchNorm's): every rank must then produce the same parameters' gradients in the same
// order, as in any data-parallel step, or the collectives would pair up wrongly. (On MPI the
// non-blocking all-reduces have a communicator of their own.)
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "core/autograd.h"
#include "core/stream.h"
#include "core/tensor.h"
#include "dist/process_group.h"

namespace simclr {

class GradBucketer {
 public:
  static constexpr size_t kDefaultBucketBytes = 25u << 20;  // 25 MiB, as DDP

  // `parameters`: the leaves whose gradients are synchronized (handles to the same tensors as the
  // model's, on the group's device: build the bucketer after Module::to, which replaces them;
  // all ranks must pass the same list in the same order). A
  // bucket holds parameters of one dtype, and closes once it reaches bucket_bytes (a parameter
  // larger than that gets a bucket of its own). The group must outlive the bucketer. A parameter
  // that does not require grad never marks its bucket ready: that bucket and the ones after it
  // wait for all_reduce_average().
  GradBucketer(ProcessGroup& group, std::vector<Tensor> parameters,
               size_t bucket_bytes = kDefaultBucketBytes, bool overlap = true);
  // Lets the collectives in flight finish (they use the flat buffers).
  ~GradBucketer();
  GradBucketer(const GradBucketer&) = delete;
  GradBucketer& operator=(const GradBucketer&) = delete;

  // Every parameter's .grad() <- the average over the ranks of its .grad(), for the work queued
  // after it on the current stream. A parameter with no gradient on this rank counts as zeros
  // and gets a gradient. Collective: every rank calls it. With overlap on, call it after each
  // backward: a second backward before it is an error (accumulating gradients over several
  // backward passes needs overlap off). The flat buffers are allocated on first use and reused.
  void all_reduce_average();

  bool overlap() const { return overlap_; }
  size_t num_buckets() const { return buckets_.size(); }
  // The indices into `parameters` of each bucket's members.
  std::vector<std::vector<size_t>> bucket_members() const;
  size_t bucket_bytes(size_t bucket) const;
  // How many buckets the last all_reduce_average() found already launched during backward.
  size_t overlapped_buckets() const { return overlapped_; }

 private:
  struct Bucket {
    std::vector<size_t> members;
    std::vector<int64_t> offsets;  // in elements, into the flat buffer
    int64_t numel = 0;
    DType dtype = DType::f32;
    Tensor flat;
    size_t waiting = 0;          // members whose gradient this backward has not produced yet
    std::unique_ptr<Work> work;  // CPU: the all-reduce in flight
    std::unique_ptr<Event> ready, done;  // CUDA with overlap: compute -> comm -> compute
  };
  void build_buckets(size_t bucket_bytes);
  void on_gradient(size_t parameter);
  void launch(Bucket& b);
  void finish(Bucket& b);
  void pack(Bucket& b);
  void unpack_average(Bucket& b);
  void start_round();
  bool on_cuda() const { return group_.device().is_cuda(); }

  ProcessGroup& group_;
  std::vector<Tensor> parameters_;
  bool overlap_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;  // parameter -> bucket
  std::vector<bool> arrived_;      // parameter -> its gradient of this backward is in
  size_t next_launch_ = 0;         // buckets launch in index order on every rank
  size_t overlapped_ = 0;
  std::vector<HookHandle> hooks_;
};

}  // namespace simclr
