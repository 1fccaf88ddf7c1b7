// The CPU backend's threads: one fixed pool, created on first use, that the kernels split their
// work over (convolution by images, batch norm by blocks of rows, the elementwise loops by ranges).
// Its size is SIMCLR_CPU_THREADS when set (1 runs everything on the calling thread), else
// std::thread::hardware_concurrency(). The calling thread takes part, so a pool of T threads
// starts T - 1 workers.
//
// Determinism: work is cut into pieces whose bounds depend only on the problem size, never on the
// thread count or on which thread runs a piece; a reduction keeps one partial per piece and folds
// the partials in piece order. So results are bit-equal run to run and across thread counts.
//
// OpenBLAS is set to one thread when the pool has more than one: the kernels call it from every
// pool thread at once, each on its own piece, instead of letting its own threads spin between
// calls while ours wait.
#pragma once

#include <cstdint>
#include <functional>

namespace simclr::cpu {

// The pool's size (>= 1).
int num_threads();

// Runs body(piece) for every piece in [0, pieces), spread over the pool, and returns when all are
// done; the first exception a piece throws is rethrown here. A call from inside a piece (or while
// another thread holds the pool) runs its pieces on the calling thread.
void parallel_for(int64_t pieces, const std::function<void(int64_t piece)>& body);

// Runs body(begin, end) over consecutive ranges of [0, n) of at least `grain` items each (the
// last may be shorter), as parallel_for does.
void parallel_ranges(int64_t n, int64_t grain,
                     const std::function<void(int64_t begin, int64_t end)>& body);

}  // namespace simclr::cpu
