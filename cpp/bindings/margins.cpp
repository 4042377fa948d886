// Binding for the product-norm kernel: unpacks lists of factor arrays into pointer tables.
#include <vector>

#include "common.hpp"
#include "gsa_fast/kernels/margins.hpp"

namespace gsa {
namespace bind {

namespace {
template <class T>
void product_norm_lists(const py::list& xs, const py::list& ys, carray<double>& out,
                        carray<int64_t>& info, const py::object& fro, double tol, int nthreads) {
  const int64_t n = (int64_t)py::len(xs);
  require((int64_t)py::len(ys) == n && out.size() == n && info.size() == n,
          "product_norm: xs, ys, out, info must have equal length");
  std::vector<carray<T>> keep;  // references held while the GIL is released
  keep.reserve((size_t)(2 * n));
  std::vector<cpu::ProductPair<T>> pairs((size_t)n);
  for (int64_t i = 0; i < n; ++i) {
    require(py::isinstance<carray<T>>(xs[i]), "product_norm: factors must be arrays of one dtype");
    auto x = py::reinterpret_borrow<carray<T>>(xs[i]);
    require(x.ndim() == 2 && (x.flags() & py::array::c_style),
            "product_norm: factors must be 2-D and C-contiguous");
    keep.push_back(x);
    if (ys[i].is_none()) {  // a single factor: ‖X‖
      pairs[(size_t)i] = {x.data(), nullptr, (int64_t)x.shape(0), (int64_t)x.shape(1),
                          (int64_t)x.shape(1)};
      continue;
    }
    require(py::isinstance<carray<T>>(ys[i]), "product_norm: factors must be arrays of one dtype");
    auto y = py::reinterpret_borrow<carray<T>>(ys[i]);
    require(y.ndim() == 2 && x.shape(1) == y.shape(0) && (y.flags() & py::array::c_style),
            "product_norm: factors must be 2-D, C-contiguous, with x.shape[1] == y.shape[0]");
    pairs[(size_t)i] = {x.data(), y.data(), (int64_t)x.shape(0), (int64_t)x.shape(1),
                        (int64_t)y.shape(1)};
    keep.push_back(y);
  }
  double* po = out_ptr(out, "out");
  int64_t* pi = out_ptr(info, "info");
  double* pf = opt_out_ptr<double>(fro, "fro");
  if (pf) require((int64_t)py::len(fro) == n, "product_norm: fro must have the length of xs");
  py::gil_scoped_release nogil;
  cpu::product_norm(pairs.data(), n, po, pi, pf, tol, nthreads);
}
template <class T>
void chain_norms_list(const py::list& fs, const carray<uint8_t>& want_norm, const carray<uint8_t>& want_prod,
                      carray<double>& norm, carray<double>& prod, carray<int64_t>& norm_info,
                      carray<int64_t>& prod_info, const py::object& fro, carray<int64_t>& reads,
                      double tol, int block, int nthreads) {
  const int64_t L = (int64_t)py::len(fs);
  const int64_t NI = L > 0 ? L - 1 : 0;
  require(L > 0 && want_norm.size() == L && norm.size() == L && norm_info.size() == L &&
              reads.size() == L && want_prod.size() == NI && prod.size() == NI &&
              prod_info.size() == NI,
          "chain_norms: per-layer arrays of length L, per-interface arrays of length L-1");
  std::vector<carray<T>> keep;
  keep.reserve((size_t)L);
  std::vector<cpu::ChainFactor<T>> f((size_t)L);
  for (int64_t i = 0; i < L; ++i) {
    require(py::isinstance<carray<T>>(fs[i]), "chain_norms: factors must be arrays of one dtype");
    auto a = py::reinterpret_borrow<carray<T>>(fs[i]);
    require(a.ndim() == 2 && (a.flags() & py::array::c_style),
            "chain_norms: factors must be 2-D and C-contiguous");
    keep.push_back(a);
    f[(size_t)i] = {a.data(), (int64_t)a.shape(0), (int64_t)a.shape(1)};
  }
  const uint8_t* wn = want_norm.data();
  const uint8_t* wp = want_prod.data();
  for (int64_t i = 0; i < NI; ++i)
    require(!wp[i] || f[(size_t)i + 1].n == f[(size_t)i].m,
            "chain_norms: a wanted product must be defined");
  double* pn = out_ptr(norm, "norm");
  double* pp = out_ptr(prod, "prod");
  int64_t* in = out_ptr(norm_info, "norm_info");
  int64_t* ip = out_ptr(prod_info, "prod_info");
  int64_t* rd = out_ptr(reads, "reads");
  double* pf = opt_out_ptr<double>(fro, "fro");
  if (pf) require((int64_t)py::len(fro) == L, "chain_norms: fro must have length L");
  py::gil_scoped_release nogil;
  cpu::chain_norms(f.data(), L, wn, wp, pn, pp, in, ip, pf, rd, tol, block, nthreads);
}
}  // namespace

void bind_margins(py::module_& m) {
  m.def("product_norm_f32", &product_norm_lists<float>, py::arg("xs"), py::arg("ys"),
        py::arg("out").noconvert(), py::arg("info").noconvert(), py::arg("fro"), py::arg("tol"),
        py::arg("nthreads") = 0);
  m.def("product_norm_f64", &product_norm_lists<double>, py::arg("xs"), py::arg("ys"),
        py::arg("out").noconvert(), py::arg("info").noconvert(), py::arg("fro"), py::arg("tol"),
        py::arg("nthreads") = 0);
  m.def("chain_norms_f32", &chain_norms_list<float>, py::arg("factors"), py::arg("want_norm"),
        py::arg("want_prod"), py::arg("norm").noconvert(), py::arg("prod").noconvert(),
        py::arg("norm_info").noconvert(), py::arg("prod_info").noconvert(), py::arg("fro"),
        py::arg("reads").noconvert(), py::arg("tol"), py::arg("block") = 0, py::arg("nthreads") = 0);
  m.def("chain_norms_f64", &chain_norms_list<double>, py::arg("factors"), py::arg("want_norm"),
        py::arg("want_prod"), py::arg("norm").noconvert(), py::arg("prod").noconvert(),
        py::arg("norm_info").noconvert(), py::arg("prod_info").noconvert(), py::arg("fro"),
        py::arg("reads").noconvert(), py::arg("tol"), py::arg("block") = 0, py::arg("nthreads") = 0);
}

}  // namespace bind
}  // namespace gsa
