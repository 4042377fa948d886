// Cheap argument re-checks inside C++ kernels: a safety net behind the Python validation.
// std::invalid_argument becomes ValueError in Python (pybind11's standard translation).
#pragma once

#include <stdexcept>
#include <string>

namespace gsa {

inline void require(bool ok, const std::string& msg) {
  if (!ok) throw std::invalid_argument(msg);
}

}  // namespace gsa
