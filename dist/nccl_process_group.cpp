// The NCCL process group: the communicator, its communication stream, the hand-off between the
// caller's current stream and that stream (an event each way, no host wait), and the watchdog
// that ends the job when a collective fails or hangs. CUDA builds only.
#include "dist/process_group.h"

#if SIMCLR_WITH_CUDA

#include <cuda_runtime_api.h>

#include "core/device_guard.h"
#include "core/library_check.h"
#include "dist/process_group_detail.h"
#include "kernels/ops.h"

namespace simclr {

namespace {

ncclDataType_t nccl_type(DType dtype, const char* op) {
  switch (dtype) {
    case DType::f32:
      return ncclFloat32;
    case DType::f64:
      return ncclFloat64;
    case DType::bf16:
      return ncclBfloat16;
    case DType::f16:
      return ncclFloat16;
    case DType::i32:
      return ncclInt32;
    case DType::i64:
      return ncclInt64;
    case DType::u8:
      return ncclUint8;
  }
  SIMCLR_THROW(op, ": unsupported dtype ", dtype_name(dtype));
}

void check_on(const Tensor& t, Device device, const char* op) {
  detail::check_defined(t, op);
  SIMCLR_CHECK(t.device() == device, op, ": the NCCL process group of ", device.str(),
               " takes tensors on that device, got ", t.str());
}

// How the watchdog names a collective: "all_reduce_sum_ of 4096 f32 values".
std::string describe(const char* op, const Tensor& t) {
  return detail::concat(op, " of ", t.numel(), " ", dtype_name(t.dtype()), " values");
}

// A collective queued on the group's stream, followed there by `done`. It keeps its tensor alive,
// and a Work dropped without wait() still orders the current stream after it: the caching
// allocator may hand the tensor's memory to that stream as soon as the host lets go of it.
class NcclWork : public Work {
 public:
  NcclWork(Tensor tensor, std::shared_ptr<Event> done, Stream stream)
      : tensor_(std::move(tensor)), done_(std::move(done)), stream_(stream) {}
  ~NcclWork() override {
    if (waited_) return;
    try {
      wait();
    } catch (...) {  // a destructor must not throw; the watchdog reports CUDA failures
    }
  }
  void wait() override {
    const Stream current = current_stream(stream_.device);
    if (current != stream_) done_->wait(current);
    waited_ = true;
  }
  bool poll() override { return done_->query(); }

 private:
  Tensor tensor_;
  std::shared_ptr<Event> done_;
  Stream stream_;
  bool waited_ = false;
};

}  // namespace

NcclProcessGroup::NcclProcessGroup(MPI_Comm comm, int rank, int world_size, int local_rank,
                                   int device)
    : ProcessGroup(comm, rank, world_size, local_rank), device_(device) {}

std::unique_ptr<NcclProcessGroup> NcclProcessGroup::create(int local_rank, int device) {
  SIMCLR_CHECK(detail::mpi_running(),
               "NcclProcessGroup: MPI is not running (call init_distributed)");
  Watchdog::Options options;
  options.timeout_s = collective_timeout_seconds();  // a bad value fails before any collective
  MPI_Comm comm = detail::duplicate_world();
  int rank = 0, world = 1;
  SIMCLR_MPI_CHECK(MPI_Comm_rank(comm, &rank));
  SIMCLR_MPI_CHECK(MPI_Comm_size(comm, &world));
  std::unique_ptr<NcclProcessGroup> group(
      new NcclProcessGroup(comm, rank, world, local_rank, device));
  ncclUniqueId id{};
  if (rank == 0) SIMCLR_NCCL_CHECK(ncclGetUniqueId(&id));
  SIMCLR_MPI_CHECK(MPI_Bcast(&id, static_cast<int>(sizeof(id)), MPI_BYTE, 0, comm));
  DeviceGuard guard(device);
  SIMCLR_NCCL_CHECK(ncclCommInitRank(&group->nccl_, world, id, rank));
  group->stream_ = std::make_unique<CudaStream>(device);
  group->ready_ = std::make_unique<Event>(device);
  NcclProcessGroup* g = group.get();
  group->watchdog_ = std::make_unique<Watchdog>(
      detail::concat("NCCL rank ", rank, " of ", world, " on cuda:", device), options,
      [g] { return g->async_error(); }, [g](const std::string& message) { g->fail(message); });
  group->watchdog_->start();
  return group;
}

NcclProcessGroup::~NcclProcessGroup() {
  // Finish the queued collectives while the watchdog still guards them, then stop it before the
  // communicator it polls goes away.
  if (stream_) cudaStreamSynchronize(static_cast<cudaStream_t>(stream_->get().handle));
  watchdog_.reset();
  if (nccl_) {
    DeviceGuard guard(device_);
    ncclCommDestroy(nccl_);
  }
}

std::string NcclProcessGroup::async_error() {
  ncclResult_t result = ncclSuccess;
  const ncclResult_t status = ncclCommGetAsyncError(nccl_, &result);
  if (status != ncclSuccess)
    return detail::concat("ncclCommGetAsyncError failed: ", ncclGetErrorString(status));
  if (result == ncclSuccess || result == ncclInProgress) return "";
  return detail::concat(ncclGetErrorString(result), " (", ncclGetLastError(nccl_), ")");
}

void NcclProcessGroup::fail(const std::string& message) {
  // Aborting the communicator makes its pending kernels return, so the device is released even
  // if this process were to linger; abort_job then ends every rank.
  ncclCommAbort(nccl_);
  abort_job(message);
}

std::unique_ptr<Work> NcclProcessGroup::enqueue(
    std::string what, Tensor keep, const std::function<ncclResult_t(cudaStream_t)>& launch) {
  DeviceGuard guard(device_);
  const Stream comm = stream_->get();
  const Stream current = current_stream(device());
  if (current != comm) {
    ready_->record(current);
    ready_->wait(comm);
  }
  SIMCLR_NCCL_CHECK(launch(static_cast<cudaStream_t>(comm.handle)));
  auto done = std::make_shared<Event>(device_);
  done->record(comm);
  const int device = device_;
  watchdog_->track(std::move(what), [done, device] {
    DeviceGuard on(device);  // the polling thread starts on device 0
    return done->query();
  });
  return std::make_unique<NcclWork>(std::move(keep), std::move(done), comm);
}

Tensor NcclProcessGroup::all_gather(const Tensor& local) {
  check_on(local, device(), "all_gather");
  NoGradGuard no_grad;
  DeviceGuard guard(device_);
  const Tensor src = contiguous(local.detach());
  Tensor out = Tensor::empty(detail::gathered_shape(src, world_size()), src.dtype(), src.device());
  const ncclDataType_t type = nccl_type(src.dtype(), "all_gather");
  enqueue(describe("all_gather", src), out, [&](cudaStream_t s) {
    return ncclAllGather(src.data_ptr(), out.data_ptr(), static_cast<size_t>(src.numel()), type,
                         nccl_, s);
  })->wait();
  return out;
}

void NcclProcessGroup::all_reduce_sum_(Tensor& t) {
  check_on(t, device(), "all_reduce_sum_");
  DeviceGuard guard(device_);
  detail::in_place_contiguous(t, [&](Tensor& c) { all_reduce_sum_async(c)->wait(); });
}

std::unique_ptr<Work> NcclProcessGroup::all_reduce_sum_async(Tensor& t) {
  const char* op = "all_reduce_sum_async";
  check_on(t, device(), op);
  SIMCLR_CHECK(t.is_contiguous(), op, ": expected a contiguous tensor, got ", t.str());
  const ncclDataType_t type = nccl_type(t.dtype(), op);
  return enqueue(describe("all_reduce_sum", t), t, [&](cudaStream_t s) {
    return ncclAllReduce(t.data_ptr(), t.data_ptr(), static_cast<size_t>(t.numel()), type, ncclSum,
                         nccl_, s);
  });
}

void NcclProcessGroup::broadcast_(Tensor& t, int root) {
  check_on(t, device(), "broadcast_");
  SIMCLR_CHECK(root >= 0 && root < world_size(), "broadcast_: root ", root,
               " is not a rank of a world of ", world_size());
  DeviceGuard guard(device_);
  detail::in_place_contiguous(t, [&](Tensor& c) {
    const ncclDataType_t type = nccl_type(c.dtype(), "broadcast_");
    const std::string what = detail::concat(describe("broadcast_", c), " from rank ", root);
    enqueue(what, c, [&](cudaStream_t s) {
      return ncclBroadcast(c.data_ptr(), c.data_ptr(), static_cast<size_t>(c.numel()), type, root,
                           nccl_, s);
    })->wait();
  });
}

void NcclProcessGroup::barrier() {
  synchronize(current_stream(device()));
  synchronize(stream());
  SIMCLR_MPI_CHECK(MPI_Barrier(comm()));
}

}  // namespace simclr

#endif  // SIMCLR_WITH_CUDA
