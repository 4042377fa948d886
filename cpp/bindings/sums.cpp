#include "common.hpp"
#include "gsa_fast/kernels/sums.hpp"

namespace gsa {
namespace bind {

void bind_sums(py::module_& m) {
  m.def(
      "harmonic_range",
      [](const carray<int64_t>& a, const carray<int64_t>& b, const carray<double>& s,
         py::object out_h, py::object out_l, py::object out_q, int nthreads) {
        const int64_t n = (int64_t)s.size();
        require(a.size() == n && b.size() == n, "harmonic_range: a, b, s must have equal size");
        double* h = opt_out_ptr<double>(out_h, "out_h");
        double* l = opt_out_ptr<double>(out_l, "out_l");
        double* q = opt_out_ptr<double>(out_q, "out_q");
        const int64_t* pa = a.data();
        const int64_t* pb = b.data();
        const double* ps = s.data();
        py::gil_scoped_release nogil;
        cpu::harmonic_range(pa, pb, ps, n, h, l, q, nthreads);
      },
      py::arg("a").noconvert(), py::arg("b").noconvert(), py::arg("s").noconvert(), py::arg("out_h"), py::arg("out_l"),
      py::arg("out_q"), py::arg("nthreads") = 0);
}

}  // namespace bind
}  // namespace gsa
