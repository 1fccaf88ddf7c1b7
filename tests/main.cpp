// Main of the CPU test executables: every allocation is poisoned, so an output that an op forgets
// to write holds NaN and fails its comparison.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "core/storage.h"

int main(int argc, char** argv) {
  simclr::Storage::set_poison(true);
  return Catch::Session().run(argc, argv);
}
