// FactorRef views of a Python list of 2-D arrays, shared by the depth binding files (no math).
#pragma once

#include <string>
#include <vector>

#include "common.hpp"
#include "gsa_fast/kernels/depth.hpp"

namespace gsa {
namespace bind {

// A list of 2-D float32/float64 arrays, read in place (element strides, no copy). Python keeps
// the list (and so the arrays) alive for the duration of the call.
inline std::vector<cpu::FactorRef> factor_refs(const py::list& mats, const char* what) {
  std::vector<cpu::FactorRef> r;
  r.reserve(mats.size());
  for (const auto& h : mats) {
    py::array a = py::reinterpret_borrow<py::array>(h);
    const bool f64 = a.dtype().is(py::dtype::of<double>());
    const bool f32 = a.dtype().is(py::dtype::of<float>());
    require(f64 || f32, std::string(what) + " must be float32 or float64");
    require(a.ndim() == 2, std::string(what) + " must be 2-D");
    const int64_t isz = f32 ? 4 : 8;
    require(a.strides(0) % isz == 0 && a.strides(1) % isz == 0,
            std::string(what) + " strides must be multiples of the item size");
    r.push_back(cpu::FactorRef{a.data(), (int64_t)a.shape(0), (int64_t)a.shape(1),
                               (int64_t)a.strides(0) / isz, (int64_t)a.strides(1) / isz, f32});
  }
  return r;
}

}  // namespace bind
}  // namespace gsa
