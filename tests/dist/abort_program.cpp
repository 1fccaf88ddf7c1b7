// A program whose rank 1 throws while rank 0 waits in a collective: run under mpirun -np 2, the
// job must end with rank 1's message and a non-zero exit code instead of hanging
// (tests/dist/check_abort.cmake runs it).
#include <cstdio>
#include <memory>

#include "core/error.h"
#include "dist/process_group.h"
#include "kernels/ops.h"

int main() {
  return simclr::run_main([] {
    std::unique_ptr<simclr::ProcessGroup> group = simclr::init_distributed(simclr::DeviceType::cpu);
    if (group->rank() == 1) SIMCLR_THROW("deliberate failure on rank 1");
    // Rank 0 (and any other) blocks here, waiting for a rank that will never come.
    simclr::Tensor t = simclr::full({4}, 1.0);
    group->all_reduce_sum_(t);
    group->barrier();
    std::printf("rank %d: passed the collectives (this must not happen)\n", group->rank());
    group.reset();
    simclr::finalize_distributed();
    return 0;
  });
}
