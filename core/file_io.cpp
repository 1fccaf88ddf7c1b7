#include "core/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "core/library_check.h"
#include "core/stream.h"

namespace simclr {

namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

// Closes a file descriptor when it goes out of scope (unless released).
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now and returns close's result (0, or -1 with errno set).
  int close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd);
  }

 private:
  int fd_;
};

std::string directory_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The elements a view reaches, as offsets [*lo, *hi] relative to its first element.
void reach_of(const Tensor& t, int64_t* lo, int64_t* hi) {
  *lo = 0;
  *hi = 0;
  for (int d = 0; d < t.shape().ndim(); ++d) {
    const int64_t reach = (t.shape()[d] - 1) * t.strides()[static_cast<size_t>(d)];
    (reach < 0 ? *lo : *hi) += reach;
  }
}

// Host bytes holding the view's reach [lo, hi], pointing at relative offset `lo`: the tensor's own
// storage on the CPU, else a copy into `staging`.
const char* host_origin(const Tensor& t, int64_t lo, int64_t hi, std::vector<char>* staging) {
  const size_t es = dtype_size(t.dtype());
  if (t.device().is_cpu())
    return static_cast<const char*>(t.data_ptr()) + lo * static_cast<int64_t>(es);
#if SIMCLR_WITH_CUDA
  synchronize(current_stream(t.device()));
  staging->resize(static_cast<size_t>(hi - lo + 1) * es);
  const char* first = static_cast<const char*>(t.data_ptr()) + lo * static_cast<int64_t>(es);
  SIMCLR_CUDA_CHECK(cudaMemcpy(staging->data(), first, staging->size(), cudaMemcpyDeviceToHost));
  return staging->data();
#else
  SIMCLR_THROW("copy_tensor_bytes: ", t.str(), " is on ", t.device().str(),
               " but this build has no CUDA backend");
#endif
}

// Copies a non-contiguous view (at least one dimension) in row-major order: an odometer over all
// dimensions but the last, the last one copied row by row. `offset` is the view's first element
// relative to `origin`, in elements.
void copy_strided(const Tensor& t, const char* origin, int64_t offset, char* out) {
  const size_t es = dtype_size(t.dtype());
  const Shape& shape = t.shape();
  const Strides& strides = t.strides();
  const int nd = shape.ndim();
  const int64_t inner = shape[nd - 1];
  const int64_t inner_stride = strides[static_cast<size_t>(nd - 1)];
  std::vector<int64_t> index(static_cast<size_t>(nd), 0);
  const int64_t rows = t.numel() / inner;
  for (int64_t r = 0; r < rows; ++r) {
    if (inner_stride == 1) {
      std::memcpy(out, origin + offset * static_cast<int64_t>(es), static_cast<size_t>(inner) * es);
      out += static_cast<size_t>(inner) * es;
    } else {
      for (int64_t i = 0; i < inner; ++i) {
        std::memcpy(out, origin + (offset + i * inner_stride) * static_cast<int64_t>(es), es);
        out += es;
      }
    }
    for (int d = nd - 2; d >= 0; --d) {
      const size_t du = static_cast<size_t>(d);
      offset += strides[du];
      if (++index[du] < shape[d]) break;
      offset -= strides[du] * shape[d];
      index[du] = 0;
    }
  }
}

}  // namespace

std::vector<char> read_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int err = errno;
    SIMCLR_THROW("read_file: cannot open '", path, "': ", errno_text(err));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    const int err = errno;
    SIMCLR_THROW("read_file: cannot stat '", path, "': ", errno_text(err));
  }
  std::vector<char> data;
  if (S_ISREG(st.st_mode) && st.st_size > 0) data.reserve(static_cast<size_t>(st.st_size));
  char chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd.get(), chunk, sizeof chunk);
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      SIMCLR_THROW("read_file: cannot read '", path, "': ", errno_text(err));
    }
    if (n == 0) break;
    data.insert(data.end(), chunk, chunk + n);
  }
  return data;
}

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  SIMCLR_CHECK(!path.empty(), "write_file_atomic: expected a file path, got an empty string");
  SIMCLR_CHECK(data != nullptr || size == 0, "write_file_atomic: '", path,
               "': no data pointer for ", size, " bytes");
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd_raw = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd_raw < 0) {
    // Nothing was created (or what sits at `tmp` is not ours to remove).
    const int err = errno;
    SIMCLR_THROW("write_file_atomic: cannot write '", path, "': cannot create the temporary '", tmp,
                 "': ", errno_text(err));
  }
  Fd fd(fd_raw);
  // From here on, every failure removes the temporary before throwing.
  auto fail = [&](const char* step, int err) {
    if (fd.get() >= 0) fd.close();
    ::unlink(tmp.c_str());
    SIMCLR_THROW("write_file_atomic: cannot write '", path, "': ", step, " of the temporary '", tmp,
                 "' failed: ", errno_text(err));
  };
  const char* bytes = static_cast<const char*>(data);
  size_t written = 0;
  while (written < size) {
    const ssize_t n = ::write(fd.get(), bytes + written, size - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write", errno);
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) fail("fsync", errno);
  if (fd.close() != 0) fail("close", errno);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("rename", errno);

  // The new name is in place; make the directory entry durable too.
  const std::string dir = directory_of(path);
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0 || ::fsync(dir_fd.get()) != 0) {
    const int err = errno;
    SIMCLR_THROW("write_file_atomic: wrote '", path, "' but could not fsync its directory '", dir,
                 "': ", errno_text(err));
  }
}

void copy_tensor_bytes(const Tensor& t, void* dst) {
  SIMCLR_CHECK(t.defined(), "copy_tensor_bytes: expected a defined tensor, got an undefined one");
  const int64_t n = t.numel();
  if (n == 0) return;
  int64_t lo = 0, hi = 0;
  reach_of(t, &lo, &hi);
  std::vector<char> staging;
  const char* origin = host_origin(t, lo, hi, &staging);
  char* out = static_cast<char*>(dst);
  if (t.is_contiguous() || t.shape().ndim() == 0) {
    std::memcpy(out, origin, static_cast<size_t>(n) * dtype_size(t.dtype()));
    return;
  }
  copy_strided(t, origin, -lo, out);
}

}  // namespace simclr
