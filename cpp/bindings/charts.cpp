#include "common.hpp"
#include "gsa_fast/kernels/charts.hpp"

namespace gsa {
namespace bind {

namespace {

template <class T>
void def_charts(py::module_& m) {
  m.def(
      "charts_fit",
      [](const carray<T>& values, const carray<int64_t>& starts, const carray<int64_t>& lengths,
         const carray<int64_t>& d, int chart, double lo, double hi, int64_t k0, int64_t k1,
         carray<double>& alpha, py::object intercept, carray<int64_t>& qplus,
         int nthreads) {
        const int64_t n = (int64_t)starts.size();
        require(lengths.size() == n && alpha.size() == n && qplus.size() == n,
                "charts_fit: starts, lengths, alpha, qplus must have equal size");
        require(d.size() == 0 || d.size() == n, "charts_fit: d must have size 0 or n");
        require(chart >= 0 && chart <= 2, "charts_fit: unknown chart");
        double* icpt = opt_out_ptr<double>(intercept, "intercept");
        const T* pv = values.data();
        const int64_t* ps = starts.data();
        const int64_t* pl = lengths.data();
        const int64_t* pd = d.data();
        const int64_t nd = (int64_t)d.size();
        double* pa = out_ptr(alpha, "alpha");
        int64_t* pq = out_ptr(qplus, "qplus");
        Status st;
        {
          py::gil_scoped_release nogil;
          cpu::fit_exponent<T>(pv, ps, pl, n, pd, nd, chart, lo, hi, k0, k1, pa, icpt, pq, &st,
                               nthreads);
        }
        return status_tuple(st);
      },
      py::arg("values").noconvert(), py::arg("starts").noconvert(),
      py::arg("lengths").noconvert(), py::arg("d").noconvert(), py::arg("chart"), py::arg("lo"),
      py::arg("hi"), py::arg("k0"), py::arg("k1"), py::arg("alpha").noconvert(),
      py::arg("intercept"), py::arg("qplus").noconvert(),
      py::arg("nthreads") = 0);
  m.def(
      "charts_residual",
      [](const carray<T>& values, const carray<int64_t>& starts, const carray<int64_t>& lengths,
         const carray<int64_t>& d, const carray<double>& alpha, int kind, carray<double>& out,
         carray<int64_t>& qplus, int nthreads) {
        const int64_t n = (int64_t)starts.size();
        require(lengths.size() == n && alpha.size() == n && out.size() == n &&
                    qplus.size() == n,
                "charts_residual: starts, lengths, alpha, out, qplus must have equal size");
        require(d.size() == 0 || d.size() == n, "charts_residual: d must have size 0 or n");
        require(kind >= 0 && kind <= 2, "charts_residual: unknown kind");
        const T* pv = values.data();
        const int64_t* ps = starts.data();
        const int64_t* pl = lengths.data();
        const int64_t* pd = d.data();
        const int64_t nd = (int64_t)d.size();
        const double* pa = alpha.data();
        double* po = out_ptr(out, "out");
        int64_t* pq = out_ptr(qplus, "qplus");
        Status st;
        {
          py::gil_scoped_release nogil;
          cpu::chart_residual<T>(pv, ps, pl, n, pd, nd, pa, kind, po, pq, &st, nthreads);
        }
        return status_tuple(st);
      },
      py::arg("values").noconvert(), py::arg("starts").noconvert(),
      py::arg("lengths").noconvert(), py::arg("d").noconvert(), py::arg("alpha").noconvert(),
      py::arg("kind"), py::arg("out").noconvert(), py::arg("qplus").noconvert(),
      py::arg("nthreads") = 0);
}

}  // namespace

void bind_charts(py::module_& m) {
  def_charts<double>(m);
  def_charts<float>(m);
}

}  // namespace bind
}  // namespace gsa
