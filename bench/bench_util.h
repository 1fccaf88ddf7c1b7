// Shared by the benchmarks: the devices to run on, inputs, and a timed loop that waits for the
// device so that GPU times are real.
#pragma once

#include <benchmark/benchmark.h>

#include <functional>
#include <vector>

#include "kernels/ops.h"

namespace simclr::bench {

// cpu always; cuda:0 when a GPU is usable.
std::vector<Device> devices();
Tensor input(const Shape& shape, DType dtype, Device device, uint64_t seed);
// Runs `step` once per iteration, synchronizing the device before the clock stops.
void run(benchmark::State& state, Device device, const std::function<void()>& step);
// Registers `fn` as "<name>/<device>/<dtype>" for each device and dtype, with argument lists.
void register_each(const char* name, const std::vector<DType>& dtypes,
                   const std::vector<std::vector<int64_t>>& args,
                   void (*fn)(benchmark::State&, Device, DType));

}  // namespace simclr::bench
