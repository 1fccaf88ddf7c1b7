// The process group: who this process is among the ranks of a job started by mpirun, and the
// collectives the trainer needs. Two implementations behind one interface:
//   - MpiProcessGroup: CPU tensors, MPI collectives on a private duplicate of MPI_COMM_WORLD (and
//     a second one for the non-blocking all-reduce, so that its order among the blocking
//     collectives does not matter);
//   - NcclProcessGroup (CUDA builds): CUDA tensors, NCCL collectives run on the group's own
//     communication stream, ordered after the work queued so far on the tensor's current stream;
//     the current stream then waits for them (the host does not). Communicator set up from a
//     unique id that rank 0 makes and broadcasts over MPI; a watchdog thread ends the job when
//     NCCL reports an asynchronous error or a collective outlives its timeout (dist/watchdog.h).
// init_distributed() starts MPI when needed (a program run without mpirun is a job of one rank)
// and picks the implementation by device type. Every rank must call the same collectives in the
// same order with tensors of the same shape and dtype.
//
// Failures: a rank that throws must end the whole job, not leave the others blocked in a
// collective. abort_job() prints "rank R: message" and calls MPI_Abort; run_main() runs a
// program's body under it.
#pragma once

#include <mpi.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/stream.h"
#include "core/tensor.h"

#if SIMCLR_WITH_CUDA
#include <cuda_runtime_api.h>
#include <nccl.h>

#include "dist/watchdog.h"
#endif

namespace simclr {

// A collective in flight (all_reduce_sum_async).
class Work {
 public:
  virtual ~Work();
  // After it, the result is in the tensor: MPI blocks until the collective has completed; NCCL
  // makes the current stream wait for it, without blocking the host.
  virtual void wait() = 0;
  // Whether the collective has completed, without waiting. MPI progresses its non-blocking
  // collectives only inside MPI calls, so polling also moves the transfer along.
  virtual bool poll() = 0;
};

class ProcessGroup {
 public:
  virtual ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  int local_rank() const { return local_rank_; }  // rank among the processes of this node
  // The device whose tensors the collectives take: cpu for MPI, cuda:N for NCCL.
  virtual Device device() const = 0;
  virtual const char* backend() const = 0;  // "mpi" or "nccl"

  // Every rank's `local` (same shape and dtype everywhere) concatenated along dim 0 in rank
  // order: [world_size * local.size(0), ...]. A new contiguous tensor; `local` may be strided.
  virtual Tensor all_gather(const Tensor& local) = 0;
  // t <- the element-wise sum of t over the ranks, in place (t may be strided).
  virtual void all_reduce_sum_(Tensor& t) = 0;
  // Starts t <- the element-wise sum of t over the ranks and returns without waiting for it. t
  // must be contiguous and must not be read, written or freed before wait(). Every rank starts
  // the same non-blocking all-reduces in the same order. MPI: MPI_Iallreduce. NCCL: on stream(),
  // after the work queued so far on the current stream.
  virtual std::unique_ptr<Work> all_reduce_sum_async(Tensor& t) = 0;
  // t <- root's t on every rank, in place.
  virtual void broadcast_(Tensor& t, int root) = 0;
  // Returns once every rank has reached it (and, for NCCL, once this rank's queued work is done).
  virtual void barrier() = 0;
  // The stream the collectives run on: the group's communication stream (NCCL), or the CPU's.
  virtual Stream stream() const = 0;

  // Host-side helper over MPI whatever the backend: every rank's string, in rank order.
  std::vector<std::string> all_gather_strings(const std::string& local);

 protected:
  // Takes ownership of `comm`; frees it on destruction if MPI is still running.
  ProcessGroup(MPI_Comm comm, int rank, int world_size, int local_rank);
  MPI_Comm comm() const { return comm_; }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int world_size_ = 1;
  int local_rank_ = 0;
};

// CPU tensors over MPI (any dtype; bf16 and f16 are summed in f32).
class MpiProcessGroup : public ProcessGroup {
 public:
  // Duplicates MPI_COMM_WORLD (MPI must be initialized; see init_distributed).
  static std::unique_ptr<MpiProcessGroup> create(int local_rank);
  ~MpiProcessGroup() override;
  Device device() const override { return Device::cpu(); }
  const char* backend() const override { return "mpi"; }
  Tensor all_gather(const Tensor& local) override;
  void all_reduce_sum_(Tensor& t) override;
  std::unique_ptr<Work> all_reduce_sum_async(Tensor& t) override;
  void broadcast_(Tensor& t, int root) override;
  void barrier() override;
  Stream stream() const override { return Stream{}; }

 private:
  MpiProcessGroup(MPI_Comm comm, MPI_Comm async_comm, int rank, int world_size, int local_rank);
  MPI_Comm async_comm_ = MPI_COMM_NULL;
};

#if SIMCLR_WITH_CUDA
// CUDA tensors over NCCL, on cuda:`device`. Every collective runs on the group's communication
// stream, after an event recorded on the tensor's device's current stream (current_stream); the
// blocking-looking calls then make the current stream wait for it, so they order with the kernels
// around them without a host wait. One stream for all of the communicator's collectives keeps
// them in issue order on the device. The watchdog tracks each collective until it completes.
class NcclProcessGroup : public ProcessGroup {
 public:
  // The watchdog's timeout comes from collective_timeout_seconds() (SIMCLR_NCCL_TIMEOUT_S).
  static std::unique_ptr<NcclProcessGroup> create(int local_rank, int device);
  ~NcclProcessGroup() override;
  Device device() const override { return Device::cuda(device_); }
  const char* backend() const override { return "nccl"; }
  Tensor all_gather(const Tensor& local) override;
  void all_reduce_sum_(Tensor& t) override;
  std::unique_ptr<Work> all_reduce_sum_async(Tensor& t) override;
  void broadcast_(Tensor& t, int root) override;
  void barrier() override;
  Stream stream() const override { return stream_->get(); }

 private:
  NcclProcessGroup(MPI_Comm comm, int rank, int world_size, int local_rank, int device);
  // Runs `launch` on the group's stream after the current stream's work and hands it to the
  // watchdog as `what`; the returned Work keeps `keep` (the collective's tensor) alive.
  std::unique_ptr<Work> enqueue(std::string what, Tensor keep,
                                const std::function<ncclResult_t(cudaStream_t)>& launch);
  // The watchdog's verdict: abort the communicator, then end the job.
  [[noreturn]] void fail(const std::string& message);
  std::string async_error();

  int device_;
  ncclComm_t nccl_ = nullptr;
  std::unique_ptr<CudaStream> stream_;
  std::unique_ptr<Event> ready_;  // the current stream's work before each collective
  std::unique_ptr<Watchdog> watchdog_;
};
#endif

// Starts MPI if it is not running yet (MPI_Init_thread, funneled; a program started without
// mpirun is a job of one rank), finds this rank, the world size and the local rank
// (OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID or SLURM_LOCALID when set, otherwise the rank
// within MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)), and returns the process group for
// `device_type`: MPI for cpu; NCCL for cuda, on GPU local_rank % (number of GPUs), which it also
// makes the current device.
std::unique_ptr<ProcessGroup> init_distributed(DeviceType device_type = DeviceType::cpu);

// MPI_Finalize, if MPI is running. Destroy every ProcessGroup first (NCCL communicators must go
// before MPI). Collective: every rank calls it.
void finalize_distributed();

// This process's rank in MPI_COMM_WORLD, or 0 when MPI is not running.
int world_rank();

// Prints "rank R: message" on stderr and ends the whole job with exit code 1 (MPI_Abort on
// MPI_COMM_WORLD; a plain exit when MPI is not running). Never returns.
[[noreturn]] void abort_job(const std::string& message);

// Runs `body` and returns its exit code; an exception escaping it ends the whole job through
// abort_job with the exception's message, so the other ranks never hang in a collective.
int run_main(const std::function<int()>& body);

}  // namespace simclr
