// The CPU extension gsa_fast._core: one bind_<family>() per kernel family (cpp/bindings/<family>.cpp).
#include <pybind11/pybind11.h>

#include <new>
#include <stdexcept>

#include "gsa_fast/check.hpp"

#include "gsa_fast/interrupt.hpp"
#include "gsa_fast/parallel.hpp"

namespace py = pybind11;

namespace gsa {
extern void* lapack_symbol_table[];  // cpp/src/lapack_link_check.cpp
namespace bind {
void bind_sums(py::module_& m);
void bind_orbit(py::module_& m);
void bind_energy(py::module_& m);
void bind_tails(py::module_& m);
void bind_bures(py::module_& m);
void bind_charts(py::module_& m);
void bind_spectra(py::module_& m);
void bind_enums(py::module_& m);
void bind_esd(py::module_& m);
void bind_depth(py::module_& m);
void bind_depth_graded(py::module_& m);
void bind_margins(py::module_& m);
void bind_tridiag(py::module_& m);
}  // namespace bind
}  // namespace gsa

PYBIND11_MODULE(_core, m) {
  m.doc() = "gsa_fast CPU kernels (internal; use the gsa_fast package API)";
  m.attr("version") = GSA_FAST_VERSION;
  m.attr("blas") = GSA_FAST_BLAS;
  m.attr("compiler") = GSA_FAST_COMPILER;
  m.attr("cuda_status") = GSA_FAST_CUDA_STATUS;
  m.attr("lapack_linked") = gsa::lapack_symbol_table[0] != nullptr;
  m.def("get_num_threads", []() { return gsa::default_num_threads(); });
  m.def("set_num_threads", [](int n) {
    gsa::require(n >= 1, "set_num_threads(): n must be >= 1");
    gsa::default_num_threads() = n;
  });
  // A kernel stopped by a signal (interrupt.hpp): the signal handler's exception is pending.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const gsa::Interrupted&) {
      if (!PyErr_Occurred()) PyErr_SetNone(PyExc_KeyboardInterrupt);
    } catch (const std::bad_alloc&) {  // a workspace that does not fit: no C++ name in the message
      PyErr_SetString(PyExc_MemoryError, "gsa_fast: not enough memory for the kernel's workspace");
    } catch (const std::length_error&) {
      PyErr_SetString(PyExc_MemoryError, "gsa_fast: the kernel's workspace would exceed the address space");
    }
  });
  gsa::bind::bind_sums(m);
  gsa::bind::bind_orbit(m);
  gsa::bind::bind_energy(m);
  gsa::bind::bind_tails(m);
  gsa::bind::bind_bures(m);
  gsa::bind::bind_charts(m);
  gsa::bind::bind_spectra(m);
  gsa::bind::bind_enums(m);
  gsa::bind::bind_esd(m);
  gsa::bind::bind_depth(m);
  gsa::bind::bind_depth_graded(m);
  gsa::bind::bind_margins(m);
  gsa::bind::bind_tridiag(m);
}
