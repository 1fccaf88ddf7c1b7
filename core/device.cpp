#include "core/device.h"

#include "core/error.h"

namespace simclr {

Device Device::parse(const std::string& text) {
  if (text == "cpu") return cpu();
  if (text == "cuda") return cuda(0);
  if (text.rfind("cuda:", 0) == 0) {
    const std::string index = text.substr(5);
    bool digits = !index.empty() && index.size() < 6 &&
                  index.find_first_not_of("0123456789") == std::string::npos;
    if (digits) return cuda(std::stoi(index));
  }
  SIMCLR_THROW("invalid device '", text, "': expected \"cpu\", \"cuda\" or \"cuda:N\"");
}

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index);
}

}  // namespace simclr
