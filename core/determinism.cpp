#include "core/determinism.h"

#include <atomic>

namespace simclr {

namespace {
std::atomic<bool> deterministic_mode{false};
}

bool deterministic() {
  return deterministic_mode;
}
void set_deterministic(bool on) {
  deterministic_mode = on;
}

}  // namespace simclr
