// pybind11 glue for the tridiagonal eigenvalue executor (cpp/src/linalg/tridiag_bisect.cpp):
// private to gsa_fast._gpu_tridiag, which validates and allocates.
#include "common.hpp"
#include "interrupt.hpp"
#include "gsa_fast/linalg/tridiag_bisect.hpp"

namespace gsa {
namespace bind {

void bind_tridiag(py::module_& m) {
  // d (count, n), e (count, n − 1), w (count, n) out, all C-contiguous float64 (e may be empty
  // when n = 1). Eigenvalues ascending per row by `points`-point Sturm multisection.
  m.def(
      "tridiag_eigvalues",
      [](const carray<double>& d, const carray<double>& e, carray<double> w, int points, int nthreads) {
        require(d.ndim() == 2 && e.ndim() == 2 && w.ndim() == 2, "tridiag_eigvalues: d, e, w must be 2-D");
        const int64_t count = (int64_t)d.shape(0), n = (int64_t)d.shape(1);
        require(e.shape(0) == count && e.shape(1) == std::max<int64_t>(n - 1, 0),
                "tridiag_eigvalues: e must be (count, n - 1)");
        require(w.shape(0) == count && w.shape(1) == n, "tridiag_eigvalues: w must be (count, n)");
        require(points >= 1 && points <= 32, "tridiag_eigvalues: points must be in [1, 32]");
        double* out = out_ptr(w, "w");
        {
          InterruptScope ctrl_c(&poll_python_signals);  // Ctrl-C between chunks of eigenvalues
          py::gil_scoped_release nogil;
          cpu::tridiag_eigvalues(count, n, d.data(), e.data(), out, points, nthreads);
        }
      },
      py::arg("d").noconvert(), py::arg("e").noconvert(), py::arg("w").noconvert(), py::arg("points") = 1,
      py::arg("nthreads") = 0);
}

}  // namespace bind
}  // namespace gsa
