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
}  // namespace

void bind_margins(py::module_& m) {
  m.def("product_norm_f32", &product_norm_lists<float>, py::arg("xs"), py::arg("ys"),
        py::arg("out").noconvert(), py::arg("info").noconvert(), py::arg("fro"), py::arg("tol"),
        py::arg("nthreads") = 0);
  m.def("product_norm_f64", &product_norm_lists<double>, py::arg("xs"), py::arg("ys"),
        py::arg("out").noconvert(), py::arg("info").noconvert(), py::arg("fro"), py::arg("tol"),
        py::arg("nthreads") = 0);
}

}  // namespace bind
}  // namespace gsa
