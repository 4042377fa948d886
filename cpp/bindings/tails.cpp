#include "common.hpp"
#include "gsa_fast/kernels/tails.hpp"

namespace gsa {
namespace bind {

void bind_tails(py::module_& m) {
  m.def(
      "orbit_tail",
      [](const carray<double>& alpha, const carray<int64_t>& r, const carray<int64_t>& d,
         carray<double>& out, int nthreads) {
        const int64_t n = (int64_t)alpha.size();
        require(r.size() == n && d.size() == n && out.size() == n,
                "orbit_tail: alpha, r, d, out must have equal size");
        const double* pa = alpha.data();
        const int64_t* pr = r.data();
        const int64_t* pd = d.data();
        double* po = out_ptr(out, "out");
        py::gil_scoped_release nogil;
        cpu::orbit_tail(pa, pr, pd, n, po, nthreads);
      },
      py::arg("alpha").noconvert(), py::arg("r").noconvert(), py::arg("d").noconvert(),
      py::arg("out").noconvert(), py::arg("nthreads") = 0);
  m.def(
      "orbit_truncation_rank",
      [](const carray<double>& alpha, const carray<double>& eps, const carray<int64_t>& d,
         carray<int64_t>& out, int nthreads) {
        const int64_t n = (int64_t)alpha.size();
        require(eps.size() == n && d.size() == n && out.size() == n,
                "orbit_truncation_rank: alpha, eps, d, out must have equal size");
        const double* pa = alpha.data();
        const double* pe = eps.data();
        const int64_t* pd = d.data();
        int64_t* po = out_ptr(out, "out");
        py::gil_scoped_release nogil;
        cpu::orbit_truncation_rank(pa, pe, pd, n, po, nthreads);
      },
      py::arg("alpha").noconvert(), py::arg("eps").noconvert(), py::arg("d").noconvert(),
      py::arg("out").noconvert(), py::arg("nthreads") = 0);
  m.def(
      "tail_margin",
      [](const carray<double>& alpha, const carray<double>& eps, const carray<int64_t>& d,
         carray<double>& out, int nthreads) {
        const int64_t n = (int64_t)alpha.size();
        require(eps.size() == n && d.size() == n && out.size() == n,
                "tail_margin: alpha, eps, d, out must have equal size");
        const double* pa = alpha.data();
        const double* pe = eps.data();
        const int64_t* pd = d.data();
        double* po = out_ptr(out, "out");
        py::gil_scoped_release nogil;
        cpu::tail_margin(pa, pe, pd, n, po, nthreads);
      },
      py::arg("alpha").noconvert(), py::arg("eps").noconvert(), py::arg("d").noconvert(),
      py::arg("out").noconvert(), py::arg("nthreads") = 0);
  m.def(
      "plateau_thresholds",
      [](const carray<double>& eps, const carray<int64_t>& d, int64_t rmax, carray<double>& out,
         int nthreads) {
        const int64_t n = (int64_t)eps.size();
        require(rmax >= 0, "plateau_thresholds: rmax must be >= 0");
        require(d.size() == n && out.size() == n * rmax,
                "plateau_thresholds: eps, d must have equal size and out eps.size * rmax");
        const double* pe = eps.data();
        const int64_t* pd = d.data();
        double* po = out_ptr(out, "out");
        py::gil_scoped_release nogil;
        cpu::plateau_thresholds(pe, pd, n, rmax, po, nthreads);
      },
      py::arg("eps").noconvert(), py::arg("d").noconvert(), py::arg("rmax"),
      py::arg("out").noconvert(), py::arg("nthreads") = 0);
  m.def(
      "scaled_log_widths",
      [](const carray<int64_t>& d, double c, carray<double>& out, int nthreads) {
        const int64_t n = (int64_t)d.size();
        require(out.size() == n, "scaled_log_widths: d and out must have equal size");
        const int64_t* pd = d.data();
        double* po = out_ptr(out, "out");
        py::gil_scoped_release nogil;
        return cpu::scaled_log_widths(pd, n, c, po, nthreads);
      },
      py::arg("d").noconvert(), py::arg("c"), py::arg("out").noconvert(),
      py::arg("nthreads") = 0);
}

}  // namespace bind
}  // namespace gsa
