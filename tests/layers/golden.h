// Runs a ResNet fixture made by tests/data/make_fixtures.py (PyTorch) on one device and dtype:
// the same weights, input and loss, one training step, and every result compared with PyTorch's.
#pragma once

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <string>

#include "core/safetensors.h"
#include "layers/checkpoint.h"
#include "layers/resnet.h"
#include "test_util.h"

namespace simclr::test {

inline std::string fixture_path(const std::string& name) {
  return std::string(SIMCLR_TEST_DATA_DIR) + "/" + name;
}

inline ResNetConfig fixture_config(const SafetensorsData& expected) {
  const auto cfg = nlohmann::json::parse(expected.metadata.at("config"));
  ResNetConfig c;
  c.depth = cfg.at("depth");
  c.base_width = cfg.at("base_width");
  c.small_stem = cfg.at("small_stem");
  c.in_channels = cfg.at("in_channels");
  return c;
}

// max |ours - theirs| / max |theirs|: one number per tensor, as the fixture's tolerance reads.
inline double relative_error(const Tensor& ours, const Tensor& theirs) {
  REQUIRE(ours.shape() == theirs.shape());
  const std::vector<double> a = values(ours), b = values(theirs);
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

#define SIMCLR_REQUIRE_RELATIVE(ours, theirs, tol, what)                         \
  do {                                                                           \
    const double simclr_err_ = ::simclr::test::relative_error((ours), (theirs)); \
    INFO(what << ": relative error " << simclr_err_);                            \
    REQUIRE(simclr_err_ < (tol));                                                \
  } while (false)

// Loads the fixture's weights into a new ResNet on `device` and runs one training step in `dtype`
// (activations; parameters stay fp32), comparing output, input and parameter gradients and the
// updated buffers with PyTorch's. Returns the network for further checks.
// `grad_tol` bounds the parameter gradients (default: `tol`).
inline std::unique_ptr<ResNet> check_fixture(const std::string& name, Device device, DType dtype,
                                             double tol, double grad_tol = 0) {
  if (grad_tol == 0) grad_tol = tol;
  const SafetensorsData expected = load_safetensors(fixture_path(name + ".expected.safetensors"));
  auto net = std::make_unique<ResNet>(fixture_config(expected));
  load_checkpoint(fixture_path(name + ".weights.safetensors"), *net);
  net->to(device);
  net->train();
  const Tensor nchw = *expected.find("input");
  Tensor x = to(to(contiguous(permute(nchw, {0, 2, 3, 1})), dtype), device);
  x.set_requires_grad(true);
  const Tensor out = net->forward(x);
  const Tensor w = to(to(*expected.find("loss_weight"), dtype), device);
  sum(mul(out, w)).backward();

  SIMCLR_REQUIRE_RELATIVE(out, *expected.find("output"), tol, "output");
  SIMCLR_REQUIRE_RELATIVE(permute(x.grad(), {0, 3, 1, 2}), *expected.find("grad.input"), tol,
                          "grad.input");
  for (auto& [pname, p] : net->named_parameters()) {
    const Tensor g = p->to_disk.empty() ? p->value.grad() : permute(p->value.grad(), p->to_disk);
    SIMCLR_REQUIRE_RELATIVE(g, *expected.find("grad." + pname), grad_tol, "grad." + pname);
  }
  for (auto& [bname, b] : net->named_buffers()) {
    const Tensor& theirs = *expected.find("after." + bname);
    if (theirs.dtype() == DType::i64) {
      REQUIRE(values(b->value) == values(theirs));
    } else {
      SIMCLR_REQUIRE_RELATIVE(b->value, theirs, tol, "after." + bname);
    }
  }
  return net;
}

}  // namespace simclr::test
