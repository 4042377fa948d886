// Ctrl-C for the kernels (gsa_fast/interrupt.hpp): the hook through which the thread holding a
// call asks Python for pending signals. It runs with the GIL released around it, so it takes the
// GIL for just this check; a raised signal handler leaves its exception (KeyboardInterrupt)
// pending, and the translator in module.cpp lets it surface once the kernel has unwound.
#pragma once

#include <pybind11/pybind11.h>

#include "gsa_fast/interrupt.hpp"

namespace gsa {
namespace bind {

inline bool poll_python_signals() {
  pybind11::gil_scoped_acquire gil;
  return PyErr_CheckSignals() != 0;
}

}  // namespace bind
}  // namespace gsa
