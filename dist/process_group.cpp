// MPI start-up, the MPI process group (blocking and non-blocking collectives), and ending the job
// when a rank fails. The NCCL process group is in dist/nccl_process_group.cpp.
#include "dist/process_group.h"

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "core/library_check.h"
#include "dist/process_group_detail.h"
#include "kernels/ops.h"

#if SIMCLR_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

namespace simclr {

namespace detail {

bool mpi_running() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized && !finalized;
}

MPI_Comm duplicate_world() {
  MPI_Comm comm = MPI_COMM_NULL;
  SIMCLR_MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &comm));
  SIMCLR_MPI_CHECK(MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN));
  return comm;
}

void check_defined(const Tensor& t, const char* op) {
  SIMCLR_CHECK(t.defined(), op, ": the tensor is undefined");
}

Shape gathered_shape(const Tensor& local, int world) {
  std::vector<int64_t> dims = local.shape().dims();
  SIMCLR_CHECK(!dims.empty(), "all_gather: expected a tensor with at least one dimension, got ",
               local.str());
  dims[0] *= world;
  return Shape(std::move(dims));
}

}  // namespace detail

namespace {

using detail::check_defined;
using detail::gathered_shape;
using detail::in_place_contiguous;
using detail::mpi_running;

int checked_count(int64_t count, const char* op) {
  SIMCLR_CHECK(count <= INT_MAX, op, ": ", count,
               " elements exceed what one MPI call can move (INT_MAX); split the tensor");
  return static_cast<int>(count);
}

// The MPI datatype of one element, and how many of them make one tensor element (bf16 and f16
// travel as bytes where no arithmetic is needed).
struct MpiType {
  MPI_Datatype type;
  int per_element;
};

MpiType mpi_type(DType dtype, const char* op) {
  switch (dtype) {
    case DType::f32:
      return {MPI_FLOAT, 1};
    case DType::f64:
      return {MPI_DOUBLE, 1};
    case DType::i32:
      return {MPI_INT32_T, 1};
    case DType::i64:
      return {MPI_INT64_T, 1};
    case DType::u8:
      return {MPI_UINT8_T, 1};
    case DType::bf16:
    case DType::f16:
      return {MPI_BYTE, 2};
  }
  SIMCLR_THROW(op, ": unsupported dtype ", dtype_name(dtype));
}

void check_cpu(const Tensor& t, const char* op) {
  check_defined(t, op);
  SIMCLR_CHECK(t.device().is_cpu(), op, ": the MPI process group takes CPU tensors, got ", t.str());
}

int env_int(const char* name, int fallback) {
  const char* value = std::getenv(name);
  if (!value || !*value) return fallback;
  char* end = nullptr;
  const long parsed = std::strtol(value, &end, 10);
  return (*end == '\0' && parsed >= 0 && parsed <= INT_MAX) ? static_cast<int>(parsed) : fallback;
}

int find_local_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"}) {
    const int value = env_int(name, -1);
    if (value >= 0) return value;
  }
  MPI_Comm node = MPI_COMM_NULL;
  SIMCLR_MPI_CHECK(
      MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
  int local = 0;
  SIMCLR_MPI_CHECK(MPI_Comm_rank(node, &local));
  SIMCLR_MPI_CHECK(MPI_Comm_free(&node));
  return local;
}

}  // namespace

// ---- ProcessGroup ----

Work::~Work() = default;

ProcessGroup::ProcessGroup(MPI_Comm comm, int rank, int world_size, int local_rank)
    : comm_(comm), rank_(rank), world_size_(world_size), local_rank_(local_rank) {}

ProcessGroup::~ProcessGroup() {
  if (comm_ != MPI_COMM_NULL && mpi_running()) MPI_Comm_free(&comm_);
}

std::vector<std::string> ProcessGroup::all_gather_strings(const std::string& local) {
  const int length = checked_count(static_cast<int64_t>(local.size()), "all_gather_strings");
  std::vector<int> lengths(static_cast<size_t>(world_size_));
  SIMCLR_MPI_CHECK(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, comm_));
  std::vector<int> offsets(lengths.size());
  int64_t total = 0;
  for (size_t r = 0; r < lengths.size(); ++r) {
    offsets[r] = checked_count(total, "all_gather_strings");
    total += lengths[r];
  }
  checked_count(total, "all_gather_strings");
  std::string all(static_cast<size_t>(total), '\0');
  SIMCLR_MPI_CHECK(MPI_Allgatherv(local.data(), length, MPI_CHAR, all.data(), lengths.data(),
                                  offsets.data(), MPI_CHAR, comm_));
  std::vector<std::string> out;
  for (size_t r = 0; r < lengths.size(); ++r)
    out.push_back(all.substr(static_cast<size_t>(offsets[r]), static_cast<size_t>(lengths[r])));
  return out;
}

// ---- MPI ----

MpiProcessGroup::MpiProcessGroup(MPI_Comm comm, MPI_Comm async_comm, int rank, int world_size,
                                 int local_rank)
    : ProcessGroup(comm, rank, world_size, local_rank), async_comm_(async_comm) {}

MpiProcessGroup::~MpiProcessGroup() {
  if (async_comm_ != MPI_COMM_NULL && mpi_running()) MPI_Comm_free(&async_comm_);
}

std::unique_ptr<MpiProcessGroup> MpiProcessGroup::create(int local_rank) {
  SIMCLR_CHECK(mpi_running(), "MpiProcessGroup: MPI is not running (call init_distributed)");
  MPI_Comm comm = detail::duplicate_world();
  MPI_Comm async_comm = detail::duplicate_world();
  int rank = 0, world = 1;
  SIMCLR_MPI_CHECK(MPI_Comm_rank(comm, &rank));
  SIMCLR_MPI_CHECK(MPI_Comm_size(comm, &world));
  return std::unique_ptr<MpiProcessGroup>(
      new MpiProcessGroup(comm, async_comm, rank, world, local_rank));
}

Tensor MpiProcessGroup::all_gather(const Tensor& local) {
  check_cpu(local, "all_gather");
  NoGradGuard no_grad;
  const Tensor src = contiguous(local.detach());
  Tensor out = Tensor::empty(gathered_shape(src, world_size()), src.dtype(), src.device());
  const MpiType type = mpi_type(src.dtype(), "all_gather");
  const int count = checked_count(src.numel() * type.per_element, "all_gather");
  checked_count(out.numel() * type.per_element, "all_gather");
  SIMCLR_MPI_CHECK(
      MPI_Allgather(src.data_ptr(), count, type.type, out.data_ptr(), count, type.type, comm()));
  return out;
}

void MpiProcessGroup::all_reduce_sum_(Tensor& t) {
  check_cpu(t, "all_reduce_sum_");
  if (t.dtype() == DType::bf16 || t.dtype() == DType::f16) {
    // MPI has no 16-bit floats: sum in f32 and round once at the end.
    NoGradGuard no_grad;
    Tensor wide = to(t.detach(), DType::f32);
    all_reduce_sum_(wide);
    copy_(t, wide);
    return;
  }
  in_place_contiguous(t, [&](Tensor& c) {
    const MpiType type = mpi_type(c.dtype(), "all_reduce_sum_");
    const int count = checked_count(c.numel(), "all_reduce_sum_");
    SIMCLR_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, c.data_ptr(), count, type.type, MPI_SUM, comm()));
  });
}

namespace {

// An MPI_Iallreduce in flight on `buffer`: the tensor itself, or a staging copy (f32 for the
// 16-bit floats) whose result wait() writes back into `target`.
class MpiWork : public Work {
 public:
  MpiWork(Tensor target, Tensor buffer) : target_(std::move(target)), buffer_(std::move(buffer)) {}
  ~MpiWork() override {
    // MPI must not keep writing into a buffer that is about to be freed.
    if (request_ != MPI_REQUEST_NULL && mpi_running()) MPI_Wait(&request_, MPI_STATUS_IGNORE);
  }
  MPI_Request* request() { return &request_; }

  void wait() override {
    SIMCLR_MPI_CHECK(MPI_Wait(&request_, MPI_STATUS_IGNORE));
    if (!copied_ && buffer_.impl() != target_.impl()) {
      NoGradGuard no_grad;
      copy_(target_, buffer_);
    }
    copied_ = true;
  }

  bool poll() override {
    int done = 0;
    SIMCLR_MPI_CHECK(MPI_Test(&request_, &done, MPI_STATUS_IGNORE));
    return done != 0;
  }

 private:
  Tensor target_, buffer_;
  MPI_Request request_ = MPI_REQUEST_NULL;
  bool copied_ = false;
};

}  // namespace

std::unique_ptr<Work> MpiProcessGroup::all_reduce_sum_async(Tensor& t) {
  const char* op = "all_reduce_sum_async";
  check_cpu(t, op);
  SIMCLR_CHECK(t.is_contiguous(), op, ": expected a contiguous tensor, got ", t.str());
  NoGradGuard no_grad;
  // MPI has no 16-bit floats: sum in f32 and round once at the end, as all_reduce_sum_.
  const bool narrow = t.dtype() == DType::bf16 || t.dtype() == DType::f16;
  Tensor buffer = narrow ? to(t.detach(), DType::f32) : t;
  const MpiType type = mpi_type(buffer.dtype(), op);
  const int count = checked_count(buffer.numel(), op);
  auto work = std::make_unique<MpiWork>(t, buffer);
  SIMCLR_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, buffer.data_ptr(), count, type.type, MPI_SUM,
                                  async_comm_, work->request()));
  return work;
}

void MpiProcessGroup::broadcast_(Tensor& t, int root) {
  check_cpu(t, "broadcast_");
  SIMCLR_CHECK(root >= 0 && root < world_size(), "broadcast_: root ", root,
               " is not a rank of a world of ", world_size());
  in_place_contiguous(t, [&](Tensor& c) {
    const MpiType type = mpi_type(c.dtype(), "broadcast_");
    const int count = checked_count(c.numel() * type.per_element, "broadcast_");
    SIMCLR_MPI_CHECK(MPI_Bcast(c.data_ptr(), count, type.type, root, comm()));
  });
}

void MpiProcessGroup::barrier() {
  SIMCLR_MPI_CHECK(MPI_Barrier(comm()));
}

// ---- start-up, shut-down, failures ----

std::unique_ptr<ProcessGroup> init_distributed(DeviceType device_type) {
  if (!mpi_running()) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    SIMCLR_CHECK(!finalized, "init_distributed: MPI was already finalized in this process");
    int provided = 0;
    SIMCLR_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided));
    SIMCLR_CHECK(provided >= MPI_THREAD_FUNNELED,
                 "init_distributed: MPI does not provide MPI_THREAD_FUNNELED");
  }
  const int local_rank = find_local_rank();
  if (device_type == DeviceType::cpu) return MpiProcessGroup::create(local_rank);
#if SIMCLR_WITH_CUDA
  int count = 0;
  SIMCLR_CUDA_CHECK(cudaGetDeviceCount(&count));
  SIMCLR_CHECK(count > 0, "init_distributed: no CUDA device for the NCCL process group");
  const int device = local_rank % count;
  SIMCLR_CUDA_CHECK(cudaSetDevice(device));
  return NcclProcessGroup::create(local_rank, device);
#else
  SIMCLR_THROW("init_distributed: the engine was built without CUDA; no NCCL process group");
#endif
}

void finalize_distributed() {
  if (mpi_running()) SIMCLR_MPI_CHECK(MPI_Finalize());
}

int world_rank() {
  if (!mpi_running()) return 0;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

void abort_job(const std::string& message) {
  std::fprintf(stderr, "rank %d: %s\n", world_rank(), message.c_str());
  std::fflush(stderr);
  if (mpi_running()) MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);
}

int run_main(const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    abort_job(e.what());
  } catch (...) {
    abort_job("unknown exception");
  }
}

}  // namespace simclr
