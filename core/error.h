// One exception type for the whole engine. It carries where the check failed (file:line) and what
// was expected against what came; library failures carry the library's own message.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace simclr {

class Error : public std::runtime_error {
 public:
  Error(const char* file, int line, const std::string& message);
  const std::string& message() const { return message_; }  // without the location
  const char* file() const { return file_; }
  int line() const { return line_; }

 private:
  std::string message_;
  const char* file_;
  int line_;
};

namespace detail {
template <typename... Args>
std::string concat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}
}  // namespace detail

}  // namespace simclr

#define SIMCLR_THROW(...) \
  throw ::simclr::Error(__FILE__, __LINE__, ::simclr::detail::concat(__VA_ARGS__))

#define SIMCLR_CHECK(cond, ...)             \
  do {                                      \
    if (!(cond)) SIMCLR_THROW(__VA_ARGS__); \
  } while (false)
