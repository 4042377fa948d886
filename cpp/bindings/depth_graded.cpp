// Bindings for cpp/src/depth_graded.cpp (row-graded prefix spectra, DLN operator eigenvalues,
// effective rank): array unpacking only, no math.
#include <vector>

#include "common.hpp"
#include "factor_refs.hpp"
#include "gsa_fast/kernels/depth_graded.hpp"

namespace gsa {
namespace bind {
namespace {

template <class T>
void def_effective_rank(py::module_& m) {
  m.def(
      "effective_rank",
      [](const carray<T>& values, const carray<int64_t>& starts, const carray<int64_t>& lengths,
         carray<double>& out, int nthreads) {
        const int64_t n = (int64_t)starts.size(), nv = (int64_t)values.size();
        require((int64_t)lengths.size() == n && (int64_t)out.size() == n,
                "effective_rank: starts, lengths and out must have equal size");
        const int64_t *ps = starts.data(), *pl = lengths.data();
        for (int64_t i = 0; i < n; ++i)
          require(ps[i] >= 0 && pl[i] >= 0 && ps[i] + pl[i] <= nv,
                  "effective_rank: spectrum out of bounds");
        double* o = out_ptr(out, "out");
        const T* v = values.data();
        py::gil_scoped_release nogil;
        cpu::effective_rank<T>(v, ps, pl, n, o, nthreads);
      },
      py::arg("values").noconvert(), py::arg("starts").noconvert(),
      py::arg("lengths").noconvert(), py::arg("out").noconvert(), py::arg("nthreads") = 0);
}

}  // namespace

void bind_depth_graded(py::module_& m) {
  m.def(
      "prefix_log_graded",
      [](const py::list& factors, int64_t B, int64_t L, const carray<uint8_t>& take, int64_t k,
         double tau, carray<double>& out, carray<uint8_t>& resolved, int nthreads) {
        auto f = factor_refs(factors, "factors");
        require((int64_t)f.size() == B * L && take.size() == L,
                "prefix_log_graded: factors/take sizes");
        int64_t nt = 0;
        for (int64_t l = 0; l < L; ++l) nt += take.data()[l] ? 1 : 0;
        require(out.size() == B * nt * k && resolved.size() == B * nt * k,
                "prefix_log_graded: out/resolved have the wrong size");
        double* o = out_ptr(out, "out");
        uint8_t* r = out_ptr(resolved, "resolved");
        py::gil_scoped_release nogil;
        cpu::prefix_log_graded(f.data(), B, L, take.data(), k, tau, o, r, nthreads);
      },
      py::arg("factors"), py::arg("B"), py::arg("L"), py::arg("take").noconvert(), py::arg("k"),
      py::arg("tau"), py::arg("out").noconvert(), py::arg("resolved").noconvert(),
      py::arg("nthreads") = 0);

  m.def(
      "graded_triangle_values",
      [](const carray<double>& R, const carray<double>& c, carray<double>& out,
         carray<uint8_t>& flags) {
        const int64_t w = (int64_t)c.size();
        require(R.ndim() == 2 && R.shape(0) == w && R.shape(1) == w,
                "graded_triangle_values: R must be (w, w) with w = len(c)");
        require(out.size() >= 1 && flags.size() == out.size(),
                "graded_triangle_values: out/flags must have equal size k >= 1");
        double* o = out_ptr(out, "out");
        uint8_t* f = out_ptr(flags, "flags");
        py::gil_scoped_release nogil;
        cpu::graded_triangle_values(R.data(), w, c.data(), (int64_t)out.size(), o, f);
      },
      py::arg("R").noconvert(), py::arg("c").noconvert(), py::arg("out").noconvert(),
      py::arg("flags").noconvert());

  m.def(
      "dln_lambda_matrix",
      [](const carray<double>& sk, const carray<double>& sl, double inv_n, carray<double>& out,
         int nthreads) {
        require(sk.ndim() == 2 && sl.ndim() == 2 && sk.shape(0) == sl.shape(0),
                "dln_lambda_matrix: sk and sl must be 2-D with equal rows");
        const int64_t rows = sk.shape(0), m = sk.shape(1), n = sl.shape(1);
        require(out.size() == rows * m * n, "dln_lambda_matrix: out has the wrong size");
        double* o = out_ptr(out, "out");
        py::gil_scoped_release nogil;
        cpu::dln_lambda_matrix(sk.data(), sl.data(), rows, m, n, inv_n, o, nthreads);
      },
      py::arg("sk").noconvert(), py::arg("sl").noconvert(), py::arg("inv_n"),
      py::arg("out").noconvert(), py::arg("nthreads") = 0);

  def_effective_rank<float>(m);
  def_effective_rank<double>(m);
}

}  // namespace bind
}  // namespace gsa
