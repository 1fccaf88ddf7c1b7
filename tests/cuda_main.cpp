// Main of the [cuda] test executables. Listing the tests works anywhere (ctest discovers them at
// build time); running them without a usable GPU prints why and exits with 77, which ctest
// reports as skipped, so a machine without a GPU never counts them as passed.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <iostream>

#include "core/cuda_device.h"
#include "core/storage.h"

int main(int argc, char** argv) {
  Catch::Session session;
  if (int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  const Catch::ConfigData& config = session.configData();
  const bool listing = config.listTests || config.listTestNamesOnly || config.listTags ||
                       config.listReporters || config.showHelp;
  if (!listing && !simclr::cuda_available()) {
    std::cout << "SKIPPED: [cuda] tests need a GPU: " << simclr::cuda_unavailable_reason() << '\n';
    return 77;
  }
  simclr::Storage::set_poison(true);
  return session.run();
}
