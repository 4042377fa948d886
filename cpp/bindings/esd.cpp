#include "common.hpp"
#include "gsa_fast/kernels/esd.hpp"

namespace gsa {
namespace bind {

void bind_esd(py::module_& m) {
  m.def(
      "esd_powerlaw_fit",
      [](const carray<double>& values, const carray<int64_t>& starts, const carray<int64_t>& lengths,
         bool square, double thresh, bool apply_thresh, const py::object& xmin_req,
         const py::object& xmax_req, int64_t clip_top, carray<double>& alpha, carray<double>& xmin,
         carray<double>& xmax, carray<double>& D, carray<double>& sigma, carray<int64_t>& spikes,
         carray<int64_t>& num_fit, carray<int64_t>& status, int nthreads) {
        const int64_t n = (int64_t)starts.size();
        require(lengths.size() == n && alpha.size() == n && xmin.size() == n && xmax.size() == n &&
                    D.size() == n && sigma.size() == n && spikes.size() == n && num_fit.size() == n &&
                    status.size() == n,
                "esd_powerlaw_fit: starts, lengths and every output must have one entry per spectrum");
        require(clip_top >= 0, "esd_powerlaw_fit: clip_top must be >= 0");
        for (int64_t b = 0; b < n; ++b)
          require(starts.data()[b] >= 0 && lengths.data()[b] >= 0 &&
                      starts.data()[b] + lengths.data()[b] <= (int64_t)values.size(),
                  "esd_powerlaw_fit: spectrum outside values");
        cpu::EsdOptions opt;
        opt.square = square;
        opt.thresh = thresh;
        opt.apply_thresh = apply_thresh;
        opt.clip_top = clip_top;
        carray<double> xr, xm;
        if (!xmin_req.is_none()) {
          xr = py::reinterpret_borrow<carray<double>>(xmin_req);
          require(xr.size() == n, "esd_powerlaw_fit: xmin must have one entry per spectrum");
          opt.xmin_req = xr.data();
        }
        if (!xmax_req.is_none()) {
          xm = py::reinterpret_borrow<carray<double>>(xmax_req);
          require(xm.size() == n, "esd_powerlaw_fit: xmax must have one entry per spectrum");
          opt.xmax_req = xm.data();
        }
        const cpu::EsdResults out{out_ptr(alpha, "alpha"), out_ptr(xmin, "xmin"), out_ptr(xmax, "xmax"),
                                  out_ptr(D, "D"),         out_ptr(sigma, "sigma"),
                                  out_ptr(spikes, "num_pl_spikes"), out_ptr(num_fit, "num_fit"),
                                  out_ptr(status, "status")};
        const double* pv = values.data();
        const int64_t* ps = starts.data();
        const int64_t* pl = lengths.data();
        py::gil_scoped_release nogil;
        cpu::esd_powerlaw_fit(pv, ps, pl, n, opt, out, nthreads);
      },
      py::arg("values").noconvert(), py::arg("starts").noconvert(), py::arg("lengths").noconvert(),
      py::arg("square"), py::arg("thresh"), py::arg("apply_thresh"), py::arg("xmin_req"),
      py::arg("xmax_req"), py::arg("clip_top"), py::arg("alpha").noconvert(), py::arg("xmin").noconvert(),
      py::arg("xmax").noconvert(), py::arg("D").noconvert(), py::arg("sigma").noconvert(),
      py::arg("num_pl_spikes").noconvert(), py::arg("num_fit").noconvert(),
      py::arg("status").noconvert(), py::arg("nthreads") = 0);
}

}  // namespace bind
}  // namespace gsa
