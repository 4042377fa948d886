// Bindings for the depth kernels (cpp/src/depth.cpp): array unpacking only, no math.
#include <vector>

#include "common.hpp"
#include "factor_refs.hpp"
#include "gsa_fast/kernels/depth.hpp"

namespace gsa {
namespace bind {

void bind_depth(py::module_& m) {
  m.def(
      "chain_scan",
      [](const py::list& factors, const py::list& gates, int64_t B, int64_t L, int64_t k,
         bool panel_f32, double tau, carray<double>& out, int nthreads) {
        auto f = factor_refs(factors, "factors");
        require((int64_t)f.size() == B * L, "chain_scan: factors must hold B·L matrices");
        require(out.size() == B * L * k, "chain_scan: out has the wrong size");
        std::vector<const uint8_t*> g;
        if (gates.size() > 0) {
          require((int64_t)gates.size() == B * L, "chain_scan: gates must hold B·L entries");
          for (int64_t i = 0; i < B * L; ++i) {
            py::object o = gates[(size_t)i];
            if (o.is_none()) {
              g.push_back(nullptr);
              continue;
            }
            auto a = py::cast<carray<uint8_t>>(o);
            require(a.size() == f[(size_t)i].rows, "chain_scan: a gate has the wrong length");
            g.push_back(a.data());
          }
        }
        double* o = out_ptr(out, "out");
        py::gil_scoped_release nogil;
        cpu::chain_scan(f.data(), g.empty() ? nullptr : g.data(), B, L, k, panel_f32, tau, o,
                        nthreads);
      },
      py::arg("factors"), py::arg("gates"), py::arg("B"), py::arg("L"), py::arg("k"),
      py::arg("panel_f32"), py::arg("tau"), py::arg("out").noconvert(), py::arg("nthreads") = 0);

  m.def(
      "prefix_log_svdvals",
      [](const py::list& factors, int64_t B, int64_t L, const carray<uint8_t>& take, int64_t k,
         carray<double>& out, int nthreads) {
        auto f = factor_refs(factors, "factors");
        require((int64_t)f.size() == B * L && take.size() == L,
                "prefix_log_svdvals: factors/take sizes");
        int64_t nt = 0;
        for (int64_t l = 0; l < L; ++l) nt += take.data()[l] ? 1 : 0;
        require(out.size() == B * nt * k, "prefix_log_svdvals: out has the wrong size");
        double* o = out_ptr(out, "out");
        py::gil_scoped_release nogil;
        cpu::prefix_log_svdvals(f.data(), B, L, take.data(), k, o, nthreads);
      },
      py::arg("factors"), py::arg("B"), py::arg("L"), py::arg("take").noconvert(), py::arg("k"),
      py::arg("out").noconvert(), py::arg("nthreads") = 0);

  m.def(
      "subspace_alignment",
      [](const py::list& A, const py::list& Bm, int64_t k, carray<double>& out_r,
         carray<double>& out_angles, carray<double>& out_rho, carray<int8_t>& status,
         int nthreads) {
        auto a = factor_refs(A, "A"), b = factor_refs(Bm, "B");
        const int64_t n = (int64_t)a.size();
        require((int64_t)b.size() == n, "subspace_alignment: A and B lists differ in length");
        require(out_r.size() == n * k * k && out_angles.size() == n * k && out_rho.size() == n &&
                    status.size() == n,
                "subspace_alignment: outputs have the wrong size");
        double *r = out_ptr(out_r, "out_r"), *ang = out_ptr(out_angles, "out_angles"),
               *rho = out_ptr(out_rho, "out_rho");
        int8_t* st = out_ptr(status, "status");
        py::gil_scoped_release nogil;
        cpu::subspace_alignment(a.data(), b.data(), n, k, r, ang, rho, st, nthreads);
      },
      py::arg("A"), py::arg("B"), py::arg("k"), py::arg("out_r").noconvert(),
      py::arg("out_angles").noconvert(), py::arg("out_rho").noconvert(),
      py::arg("status").noconvert(), py::arg("nthreads") = 0);

  m.def(
      "dln_log_volume",
      [](const carray<double>& sigma, double inv_n, carray<double>& out_s, py::object out_grad,
         int nthreads) {
        require(sigma.ndim() == 2, "dln_log_volume: sigma must be 2-D");
        const int64_t rows = sigma.shape(0), d = sigma.shape(1);
        require(out_s.size() == rows, "dln_log_volume: out_s has the wrong size");
        double* g = opt_out_ptr<double>(out_grad, "out_grad");
        require(!g || py::cast<py::array>(out_grad).size() == rows * d,
                "dln_log_volume: out_grad has the wrong size");
        double* s = out_ptr(out_s, "out_s");
        py::gil_scoped_release nogil;
        cpu::dln_log_volume(sigma.data(), rows, d, inv_n, s, g, nthreads);
      },
      py::arg("sigma").noconvert(), py::arg("inv_n"), py::arg("out_s").noconvert(),
      py::arg("out_grad"), py::arg("nthreads") = 0);
}

}  // namespace bind
}  // namespace gsa
