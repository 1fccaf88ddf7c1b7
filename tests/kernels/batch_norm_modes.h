// The eight forms of batch_norm the tests cover (batch_norm_test.cpp on the CPU and
// batch_norm_cuda_test.cpp on CUDA): training or eval, with or without the ReLU and the residual.
#pragma once

#include <string>
#include <vector>

namespace simclr::test {

struct Mode {
  bool training, relu, residual;
};

inline const std::vector<Mode>& all_modes() {
  static const std::vector<Mode> modes{
      {true, false, false},  {true, true, false},  {true, false, true},  {true, true, true},
      {false, false, false}, {false, true, false}, {false, false, true}, {false, true, true}};
  return modes;
}

inline std::string describe(const Mode& m) {
  return std::string(m.training ? "training" : "eval") + (m.relu ? " relu" : "") +
         (m.residual ? " residual" : "");
}

}  // namespace simclr::test
