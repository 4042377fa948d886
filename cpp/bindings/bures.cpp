#include <vector>

#include "common.hpp"
#include "interrupt.hpp"
#include "gsa_fast/kernels/bures.hpp"

namespace gsa {
namespace bind {
namespace {

// A strided float32/float64 stack, read in place (no conversion, no copy). `trailing` is the
// number of matrix/vector dims after the batch dims.
struct StackArg {
  cpu::Stack s{};
  std::vector<int64_t> strides, shape;
};

StackArg stack_arg(const py::array& a, int trailing, const char* what) {
  StackArg r;
  const bool f64 = a.dtype().is(py::dtype::of<double>());
  const bool f32 = a.dtype().is(py::dtype::of<float>());
  require(f64 || f32, std::string(what) + " must be float32 or float64");
  require(a.ndim() >= trailing, std::string(what) + " has too few dimensions");
  for (py::ssize_t d = 0; d < a.ndim(); ++d) {
    r.strides.push_back((int64_t)a.strides(d));
    r.shape.push_back((int64_t)a.shape(d));
  }
  r.s.data = a.data();
  r.s.f32 = f32;
  r.s.strides = r.strides.data();
  return r;
}

void same_batch(const StackArg& x, const StackArg& y, int nb, const char* fn) {
  for (int d = 0; d < nb; ++d)
    require(x.shape[d] == y.shape[d], std::string(fn) + ": batch shapes differ (broadcast first)");
}

int64_t count(const std::vector<int64_t>& shape, int nb) {
  int64_t c = 1;
  for (int d = 0; d < nb; ++d) c *= shape[d];
  return c;
}

}  // namespace

void bind_bures(py::module_& m) {
  m.def(
      "bures_general",
      [](const py::array& P, const py::array& Q, double sym_rtol_p, double psd_rtol_p,
         double sym_rtol_q, double psd_rtol_q, py::object out_dist, py::object out_fid,
         int nthreads) {
        StackArg p = stack_arg(P, 2, "P"), q = stack_arg(Q, 2, "Q");
        require(P.ndim() == Q.ndim(), "bures_general: P and Q must have the same ndim");
        const int nb = (int)P.ndim() - 2;
        same_batch(p, q, nb, "bures_general");
        const int64_t n = p.shape[nb];
        require(p.shape[nb + 1] == n && q.shape[nb] == n && q.shape[nb + 1] == n,
                "bures_general: P and Q must be n×n with the same n");
        const int64_t B = count(p.shape, nb);
        double* d = opt_out_ptr<double>(out_dist, "out_dist");
        double* f = opt_out_ptr<double>(out_fid, "out_fid");
        require(!d || py::cast<py::array>(out_dist).size() == B, "out_dist has the wrong size");
        require(!f || py::cast<py::array>(out_fid).size() == B, "out_fid has the wrong size");
        Status st;
        InterruptScope ctrl_c(&poll_python_signals);  // Ctrl-C between matrix pairs
        {
          py::gil_scoped_release nogil;
          cpu::bures_general(p.s, q.s, nb, p.shape.data(), n, sym_rtol_p, psd_rtol_p, sym_rtol_q,
                             psd_rtol_q, d, f, &st, nthreads);
        }
        return status_tuple(st);
      },
      py::arg("P").noconvert(), py::arg("Q").noconvert(), py::arg("sym_rtol_p"),
      py::arg("psd_rtol_p"), py::arg("sym_rtol_q"), py::arg("psd_rtol_q"), py::arg("out_dist"),
      py::arg("out_fid"), py::arg("nthreads") = 0,
      "Bures route (a); returns the Status (code, index, position = operand, info).");

  m.def(
      "bures_factors",
      [](const py::array& A, const py::array& B, carray<double>& out, int nthreads) {
        StackArg a = stack_arg(A, 2, "A"), b = stack_arg(B, 2, "B");
        require(A.ndim() == B.ndim(), "bures_factors: A and B must have the same ndim");
        const int nb = (int)A.ndim() - 2;
        same_batch(a, b, nb, "bures_factors");
        const int64_t n = a.shape[nb + 1];
        require(b.shape[nb + 1] == n, "bures_factors: A and B must have the same column count");
        const int64_t Bn = count(a.shape, nb);
        require(out.size() == Bn, "bures_factors: out has the wrong size");
        double* o = out_ptr(out, "out");
        Status st;
        InterruptScope ctrl_c(&poll_python_signals);  // Ctrl-C between matrix pairs
        {
          py::gil_scoped_release nogil;
          cpu::bures_factors(a.s, a.shape[nb], b.s, b.shape[nb], nb, a.shape.data(), n, o, &st,
                             nthreads);
        }
        return status_tuple(st);
      },
      py::arg("A").noconvert(), py::arg("B").noconvert(), py::arg("out").noconvert(),
      py::arg("nthreads") = 0);

  m.def(
      "bures_diag",
      [](const py::array& a, const py::array& b, bool sort_desc, double neg_rtol_a,
         double neg_rtol_b, carray<double>& out, int nthreads) {
        StackArg x = stack_arg(a, 1, "a"), y = stack_arg(b, 1, "b");
        require(a.ndim() == b.ndim(), "bures_diag: a and b must have the same ndim");
        const int nb = (int)a.ndim() - 1;
        same_batch(x, y, nb, "bures_diag");
        const int64_t n = x.shape[nb];
        require(y.shape[nb] == n, "bures_diag: a and b must have the same length");
        const int64_t B = count(x.shape, nb);
        require(out.size() == B, "bures_diag: out has the wrong size");
        double* o = out_ptr(out, "out");
        Status st;
        InterruptScope ctrl_c(&poll_python_signals);  // Ctrl-C between matrix pairs
        {
          py::gil_scoped_release nogil;
          cpu::bures_diag(x.s, y.s, nb, x.shape.data(), n, sort_desc, neg_rtol_a, neg_rtol_b, o, &st,
                          nthreads);
        }
        return status_tuple(st);
      },
      py::arg("a").noconvert(), py::arg("b").noconvert(), py::arg("sort_desc"),
      py::arg("neg_rtol_a"), py::arg("neg_rtol_b"), py::arg("out").noconvert(),
      py::arg("nthreads") = 0);
}

}  // namespace bind
}  // namespace gsa
