#include "common.hpp"
#include "gsa_fast/kernels/orbit.hpp"

namespace gsa {
namespace bind {

void bind_orbit(py::module_& m) {
  m.def(
      "orbit_unary",
      [](int op, const carray<double>& alpha, const carray<int64_t>& d, carray<double>& out,
         int nthreads) {
        const int64_t n = (int64_t)alpha.size();
        require(d.size() == n && out.size() == n, "orbit_unary: alpha, d, out must have equal size");
        const double* pa = alpha.data();
        const int64_t* pd = d.data();
        double* po = out_ptr(out, "out");
        py::gil_scoped_release nogil;
        cpu::orbit_unary(op, pa, pd, n, po, nthreads);
      },
      py::arg("op"), py::arg("alpha").noconvert(), py::arg("d").noconvert(),
      py::arg("out").noconvert(), py::arg("nthreads") = 0);
  m.def(
      "orbit_binary",
      [](int op, const carray<double>& a, const carray<double>& b, const carray<int64_t>& d,
         carray<double>& out, int nthreads) {
        const int64_t n = (int64_t)a.size();
        require(b.size() == n && d.size() == n && out.size() == n,
                "orbit_binary: a, b, d, out must have equal size");
        const double* pa = a.data();
        const double* pb = b.data();
        const int64_t* pd = d.data();
        double* po = out_ptr(out, "out");
        py::gil_scoped_release nogil;
        cpu::orbit_binary(op, pa, pb, pd, n, po, nthreads);
      },
      py::arg("op"), py::arg("a").noconvert(), py::arg("b").noconvert(), py::arg("d").noconvert(),
      py::arg("out").noconvert(), py::arg("nthreads") = 0);
  m.def(
      "orbit_probs",
      [](const carray<double>& alpha, int64_t d, carray<double>& out, int nthreads) {
        const int64_t n = (int64_t)alpha.size();
        require(d >= 1, "orbit_probs: d must be >= 1");
        require(out.size() == n * d, "orbit_probs: out must have alpha.size * d elements");
        const double* pa = alpha.data();
        double* po = out_ptr(out, "out");
        py::gil_scoped_release nogil;
        cpu::orbit_probs(pa, n, d, po, nthreads);
      },
      py::arg("alpha").noconvert(), py::arg("d"), py::arg("out").noconvert(),
      py::arg("nthreads") = 0);
}

}  // namespace bind
}  // namespace gsa
