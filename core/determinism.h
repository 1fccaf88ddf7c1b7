// Deterministic mode: fixed reduction orders and deterministic cuDNN algorithms, so the same seed
// gives the same results bit for bit (DESIGN.md, conventions). Off by default: some of the fastest
// cuDNN algorithms accumulate with atomics.
#pragma once

namespace simclr {

bool deterministic();
void set_deterministic(bool on);

}  // namespace simclr
