// Helpers shared by the binding files: array unpacking only, no math.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "gsa_fast/check.hpp"
#include "gsa_fast/status.hpp"

namespace py = pybind11;

namespace gsa {
namespace bind {

// A C-contiguous array of T (no conversion, no copy: Python hands over the right dtype).
template <class T>
using carray = py::array_t<T, py::array::c_style>;

template <class T>
const T* in_ptr(const carray<T>& a) {
  return a.data();
}

template <class T>
T* out_ptr(carray<T>& a, const char* what) {
  require(a.writeable(), std::string(what) + " must be writeable");
  return a.mutable_data();
}

// Optional output: None → nullptr. Never converts (a converted copy would drop the result):
// anything but a writeable C-contiguous array of exactly T is an error.
template <class T>
T* opt_out_ptr(const py::object& o, const char* what) {
  if (o.is_none()) return nullptr;
  require(py::isinstance<carray<T>>(o),
          std::string(what) + " must be a C-contiguous array of the kernel's dtype");
  auto a = py::reinterpret_borrow<carray<T>>(o);
  require(a.flags() & py::array::c_style, std::string(what) + " must be C-contiguous");
  return out_ptr(a, what);
}

// The one status channel: (code, index, position, info) for gsa_fast._status.raise_status.
inline py::tuple status_tuple(const Status& st) {
  return py::make_tuple(st.code, st.index, st.position, st.info);
}

// Binding convention: every array argument is declared with .noconvert(), so a wrong dtype or
// a non-contiguous array raises TypeError instead of being silently copied.

}  // namespace bind
}  // namespace gsa
