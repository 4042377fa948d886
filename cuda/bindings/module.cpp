// The CUDA extension gsa_fast._cuda: takes raw device pointers (cupy's .data.ptr) handed over by
// the Python dispatcher, which has already validated shapes and dtypes. No math here.
#include <cuda_runtime.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "bulge.cuh"
#include "bures.cuh"
#include "charts.cuh"
#include "depth.cuh"
#include "energy.cuh"
#include "esd.cuh"
#include "orbit.cuh"
#include "sums.cuh"
#include "tails.cuh"
#include "tridiag.cuh"

namespace py = pybind11;

namespace {

void check(int err, const char* what) {
  if (err != 0) {
    throw std::runtime_error(std::string(what) + ": CUDA error " + std::to_string(err) + " (" +
                             cudaGetErrorString(static_cast<cudaError_t>(err)) + ")");
  }
}

// Run one launcher with the GIL released (the launch and any synchronization inside it may
// block), then turn its CUDA error code into a RuntimeError naming the kernel.
template <class F>
void launch(const char* what, F&& launcher) {
  int err;
  {
    py::gil_scoped_release nogil;
    err = launcher();
  }
  check(err, what);
}

template <class T>
T* dptr(uintptr_t p) {
  return reinterpret_cast<T*>(p);
}

}  // namespace

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "gsa_fast CUDA kernels (internal; use the gsa_fast package API with cupy arrays)";
  m.def("device_count", []() {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
      cudaGetLastError();  // clear the sticky "no device" error
      return 0;
    }
    return n;
  });
  m.def(
      "bulge_chase",
      [](uintptr_t work, int64_t n, int b, int64_t ldw, uintptr_t progress, uintptr_t d, uintptr_t e,
         uintptr_t stream) {
        launch("bulge_chase", [&] {
          return gsa::cuda::bulge_chase(dptr<double>(work), n, b, ldw, dptr<int>(progress),
                                        dptr<double>(d), dptr<double>(e), stream);
        });
      },
      py::arg("work"), py::arg("n"), py::arg("b"), py::arg("ldw"), py::arg("progress"), py::arg("d"),
      py::arg("e"), py::arg("stream"));
  m.attr("BULGE_MAX_BAND") = gsa::cuda::kBulgeMaxBand;
  m.def(
      "harmonic_range",
      [](uintptr_t a, uintptr_t b, uintptr_t s, int64_t n, uintptr_t h, uintptr_t l, uintptr_t q,
         uintptr_t stream) {
        launch("harmonic_range", [&] {
          return gsa::cuda::harmonic_range(dptr<const int64_t>(a), dptr<const int64_t>(b),
                                           dptr<const double>(s), n, dptr<double>(h),
                                           dptr<double>(l), dptr<double>(q), stream);
        });
      },
      py::arg("a"), py::arg("b"), py::arg("s"), py::arg("n"), py::arg("out_h"), py::arg("out_l"),
      py::arg("out_q"), py::arg("stream"));
  m.def(
      "truncation_rank",
      [](uintptr_t values, bool f32, uintptr_t starts, uintptr_t lengths, int64_t nspec,
         uintptr_t eps, int neps, uintptr_t out, uintptr_t status, uintptr_t stream) {
        launch("truncation_rank", [&] {
          return f32 ? gsa::cuda::truncation_rank_f32(
                           dptr<const float>(values), dptr<const int64_t>(starts),
                           dptr<const int64_t>(lengths), nspec, dptr<const double>(eps), neps,
                           dptr<int64_t>(out), dptr<int64_t>(status), stream)
                     : gsa::cuda::truncation_rank_f64(
                           dptr<const double>(values), dptr<const int64_t>(starts),
                           dptr<const int64_t>(lengths), nspec, dptr<const double>(eps), neps,
                           dptr<int64_t>(out), dptr<int64_t>(status), stream);
        });
      },
      py::arg("values"), py::arg("f32"), py::arg("starts"), py::arg("lengths"), py::arg("nspec"),
      py::arg("eps"), py::arg("neps"), py::arg("out"), py::arg("status"), py::arg("stream"));
  m.def(
      "spectrum_stats",
      [](uintptr_t values, bool f32, uintptr_t starts, uintptr_t lengths, int64_t nspec, double tol,
         uintptr_t radial_d, uintptr_t out_rank, uintptr_t out_entropy, uintptr_t out_radial,
         uintptr_t status, uintptr_t stream) {
        launch("spectrum_stats", [&] {
          return f32 ? gsa::cuda::spectrum_stats_f32(
                           dptr<const float>(values), dptr<const int64_t>(starts),
                           dptr<const int64_t>(lengths), nspec, tol, dptr<const int64_t>(radial_d),
                           dptr<int64_t>(out_rank), dptr<double>(out_entropy),
                           dptr<double>(out_radial), dptr<int64_t>(status), stream)
                     : gsa::cuda::spectrum_stats_f64(
                           dptr<const double>(values), dptr<const int64_t>(starts),
                           dptr<const int64_t>(lengths), nspec, tol, dptr<const int64_t>(radial_d),
                           dptr<int64_t>(out_rank), dptr<double>(out_entropy),
                           dptr<double>(out_radial), dptr<int64_t>(status), stream);
        });
      },
      py::arg("values"), py::arg("f32"), py::arg("starts"), py::arg("lengths"), py::arg("nspec"),
      py::arg("tol"), py::arg("radial_d"), py::arg("out_rank"), py::arg("out_entropy"),
      py::arg("out_radial"), py::arg("status"), py::arg("stream"));
  m.def(
      "tails_energy",
      [](uintptr_t values, bool f32, uintptr_t starts, uintptr_t lengths, int64_t nspec,
         uintptr_t out_tails, uintptr_t tails_start, uintptr_t out_energy, uintptr_t energy_start,
         uintptr_t status, uintptr_t stream) {
        launch("tails_energy", [&] {
          return f32 ? gsa::cuda::tails_energy_f32(
                           dptr<const float>(values), dptr<const int64_t>(starts),
                           dptr<const int64_t>(lengths), nspec, dptr<double>(out_tails),
                           dptr<const int64_t>(tails_start), dptr<double>(out_energy),
                           dptr<const int64_t>(energy_start), dptr<int64_t>(status), stream)
                     : gsa::cuda::tails_energy_f64(
                           dptr<const double>(values), dptr<const int64_t>(starts),
                           dptr<const int64_t>(lengths), nspec, dptr<double>(out_tails),
                           dptr<const int64_t>(tails_start), dptr<double>(out_energy),
                           dptr<const int64_t>(energy_start), dptr<int64_t>(status), stream);
        });
      },
      py::arg("values"), py::arg("f32"), py::arg("starts"), py::arg("lengths"), py::arg("nspec"),
      py::arg("out_tails"), py::arg("tails_start"), py::arg("out_energy"),
      py::arg("energy_start"), py::arg("status"), py::arg("stream"));
  m.def(
      "orbit_unary",
      [](int op, uintptr_t alpha, uintptr_t d, int64_t n, uintptr_t out, uintptr_t stream) {
        launch("orbit_unary", [&] {
          return gsa::cuda::orbit_unary(op, dptr<const double>(alpha), dptr<const int64_t>(d), n,
                                        dptr<double>(out), stream);
        });
      },
      py::arg("op"), py::arg("alpha"), py::arg("d"), py::arg("n"), py::arg("out"),
      py::arg("stream"));
  m.def(
      "orbit_binary",
      [](int op, uintptr_t a, uintptr_t b, uintptr_t d, int64_t n, uintptr_t out,
         uintptr_t stream) {
        launch("orbit_binary", [&] {
          return gsa::cuda::orbit_binary(op, dptr<const double>(a), dptr<const double>(b),
                                         dptr<const int64_t>(d), n, dptr<double>(out), stream);
        });
      },
      py::arg("op"), py::arg("a"), py::arg("b"), py::arg("d"), py::arg("n"), py::arg("out"),
      py::arg("stream"));
  // ---- orbit tails family (cuda/tails.cu) ----
  m.def(
      "orbit_tail",
      [](uintptr_t alpha, uintptr_t r, uintptr_t d, int64_t n, uintptr_t out, uintptr_t stream) {
        launch("orbit_tail", [&] {
          return gsa::cuda::orbit_tail(dptr<const double>(alpha), dptr<const int64_t>(r),
                                       dptr<const int64_t>(d), n, dptr<double>(out), stream);
        });
      },
      py::arg("alpha"), py::arg("r"), py::arg("d"), py::arg("n"), py::arg("out"),
      py::arg("stream"));
  m.def(
      "orbit_truncation_rank",
      [](uintptr_t alpha, uintptr_t eps, uintptr_t d, int64_t n, uintptr_t out,
         uintptr_t stream) {
        launch("orbit_truncation_rank", [&] {
          return gsa::cuda::orbit_truncation_rank(dptr<const double>(alpha),
                                                  dptr<const double>(eps), dptr<const int64_t>(d),
                                                  n, dptr<int64_t>(out), stream);
        });
      },
      py::arg("alpha"), py::arg("eps"), py::arg("d"), py::arg("n"), py::arg("out"),
      py::arg("stream"));
  m.def(
      "tail_margin",
      [](uintptr_t alpha, uintptr_t eps, uintptr_t d, int64_t n, uintptr_t out,
         uintptr_t stream) {
        launch("tail_margin", [&] {
          return gsa::cuda::tail_margin(dptr<const double>(alpha), dptr<const double>(eps),
                                        dptr<const int64_t>(d), n, dptr<double>(out), stream);
        });
      },
      py::arg("alpha"), py::arg("eps"), py::arg("d"), py::arg("n"), py::arg("out"),
      py::arg("stream"));
  m.def(
      "plateau_thresholds",
      [](uintptr_t eps, uintptr_t d, int64_t n, int64_t rmax, uintptr_t out, uintptr_t stream) {
        launch("plateau_thresholds", [&] {
          return gsa::cuda::plateau_thresholds(dptr<const double>(eps), dptr<const int64_t>(d), n,
                                               rmax, dptr<double>(out), stream);
        });
      },
      py::arg("eps"), py::arg("d"), py::arg("n"), py::arg("rmax"), py::arg("out"),
      py::arg("stream"));
  m.def(
      "bures_load",
      [](uintptr_t base, bool f32, uintptr_t offsets, int64_t nmat, int64_t rows, int64_t cols,
         int64_t rs, int64_t cs, bool symmetric, double sym_rtol, uintptr_t W, uintptr_t out_sum,
         uintptr_t out_exp, uintptr_t code, uintptr_t stream) {
        launch("bures_load", [&] {
          return gsa::cuda::bures_load(dptr<const void>(base), f32, dptr<const int64_t>(offsets),
                                       nmat, rows, cols, rs, cs, symmetric, sym_rtol,
                                       dptr<double>(W), dptr<double>(out_sum), dptr<int>(out_exp),
                                       dptr<int>(code), stream);
        });
      },
      py::arg("base"), py::arg("f32"), py::arg("offsets"), py::arg("nmat"), py::arg("rows"),
      py::arg("cols"), py::arg("rs"), py::arg("cs"), py::arg("symmetric"), py::arg("sym_rtol"),
      py::arg("W"), py::arg("out_sum"), py::arg("out_exp"), py::arg("code"), py::arg("stream"));
  m.def(
      "bures_sqrt_eig",
      [](uintptr_t w, int64_t nmat, int64_t n, double psd_rtol, uintptr_t code,
         uintptr_t stream) {
        launch("bures_sqrt_eig", [&] {
          return gsa::cuda::bures_sqrt_eig(dptr<double>(w), nmat, n, psd_rtol, dptr<int>(code),
                                           stream);
        });
      },
      py::arg("w"), py::arg("nmat"), py::arg("n"), py::arg("psd_rtol"), py::arg("code"),
      py::arg("stream"));
  m.def(
      "bures_pairs",
      [](uintptr_t pidx, uintptr_t qidx, int64_t npairs, uintptr_t code_p, uintptr_t code_q,
         uintptr_t tr_p, uintptr_t exp_p, uintptr_t tr_q, uintptr_t exp_q, uintptr_t sv,
         int64_t k, uintptr_t out_dist, uintptr_t out_fid, uintptr_t status, uintptr_t stream) {
        launch("bures_pairs", [&] {
          return gsa::cuda::bures_pairs(
               dptr<const int64_t>(pidx), dptr<const int64_t>(qidx), npairs,
               dptr<const int>(code_p), dptr<const int>(code_q), dptr<const double>(tr_p),
               dptr<const int>(exp_p), dptr<const double>(tr_q), dptr<const int>(exp_q),
               dptr<const double>(sv), k, dptr<double>(out_dist), dptr<double>(out_fid),
               dptr<int64_t>(status), stream);
        });
      },
      py::arg("pidx"), py::arg("qidx"), py::arg("npairs"), py::arg("code_p"), py::arg("code_q"),
      py::arg("tr_p"), py::arg("exp_p"), py::arg("tr_q"), py::arg("exp_q"), py::arg("sv"),
      py::arg("k"), py::arg("out_dist"), py::arg("out_fid"), py::arg("status"),
      py::arg("stream"));
  m.def(
      "bures_diag",
      [](uintptr_t a, bool a_f32, uintptr_t a_off, int64_t sa, uintptr_t b, bool b_f32,
         uintptr_t b_off, int64_t sb, int64_t npairs, int64_t n, bool sort_desc, double neg_a,
         double neg_b, uintptr_t out, uintptr_t status, uintptr_t stream) {
        launch("bures_diag", [&] {
          return gsa::cuda::bures_diag(dptr<const void>(a), a_f32, dptr<const int64_t>(a_off), sa,
                                       dptr<const void>(b), b_f32, dptr<const int64_t>(b_off), sb,
                                       npairs, n, sort_desc, neg_a, neg_b, dptr<double>(out),
                                       dptr<int64_t>(status), stream);
        });
      },
      py::arg("a"), py::arg("a_f32"), py::arg("a_off"), py::arg("sa"), py::arg("b"),
      py::arg("b_f32"), py::arg("b_off"), py::arg("sb"), py::arg("npairs"), py::arg("n"),
      py::arg("sort_desc"), py::arg("neg_a"), py::arg("neg_b"), py::arg("out"),
      py::arg("status"), py::arg("stream"));
  m.def(
      "esd_powerlaw_fit",
      [](uintptr_t sorted, uintptr_t starts, uintptr_t lengths, int64_t nspec, int64_t clip_top,
         bool apply_thresh, double thresh, uintptr_t xmin_req, uintptr_t xmax_req, uintptr_t work,
         uintptr_t work_start, uintptr_t alpha, uintptr_t xmin, uintptr_t xmax, uintptr_t D,
         uintptr_t sigma, uintptr_t num_pl_spikes, uintptr_t num_fit, uintptr_t status,
         uintptr_t stream) {
        launch("esd_powerlaw_fit", [&] {
          return gsa::cuda::esd_powerlaw_fit(
               dptr<const double>(sorted), dptr<const int64_t>(starts),
               dptr<const int64_t>(lengths), nspec, clip_top, apply_thresh, thresh,
               dptr<const double>(xmin_req), dptr<const double>(xmax_req), dptr<double>(work),
               dptr<const int64_t>(work_start), dptr<double>(alpha), dptr<double>(xmin),
               dptr<double>(xmax), dptr<double>(D), dptr<double>(sigma),
               dptr<int64_t>(num_pl_spikes), dptr<int64_t>(num_fit), dptr<int64_t>(status),
               stream);
        });
      },
      py::arg("sorted"), py::arg("starts"), py::arg("lengths"), py::arg("nspec"),
      py::arg("clip_top"), py::arg("apply_thresh"), py::arg("thresh"), py::arg("xmin_req"),
      py::arg("xmax_req"), py::arg("work"), py::arg("work_start"), py::arg("alpha"),
      py::arg("xmin"), py::arg("xmax"), py::arg("D"), py::arg("sigma"),
      py::arg("num_pl_spikes"), py::arg("num_fit"), py::arg("status"), py::arg("stream"));
  m.def(
      "tridiag_eigvalues",
      [](uintptr_t d, uintptr_t e, int64_t count, int64_t n, int points, uintptr_t work,
         uintptr_t params, uintptr_t w, uintptr_t stream) {
        launch("tridiag_eigvalues", [&] {
          return gsa::cuda::tridiag_eigvalues(dptr<const double>(d), dptr<const double>(e), count, n,
                                              points, dptr<double>(work), dptr<double>(params),
                                              dptr<double>(w), stream);
        });
      },
      py::arg("d"), py::arg("e"), py::arg("count"), py::arg("n"), py::arg("points"), py::arg("work"),
      py::arg("params"), py::arg("w"), py::arg("stream"));
  m.attr("charts_log_table_min") = gsa::cuda::charts_log_table_min();
  m.def(
      "charts_fit",
      [](uintptr_t values, bool f32, uintptr_t starts, uintptr_t lengths, int64_t nspec,
         uintptr_t d, int chart, double lo, double hi, int64_t k0, int64_t k1, uintptr_t u,
         int64_t nu, uintptr_t alpha, uintptr_t intercept, uintptr_t qplus, uintptr_t status,
         uintptr_t stream) {
        launch("charts_fit", [&] {
          return f32 ? gsa::cuda::charts_fit<float>(
                           dptr<const float>(values), dptr<const int64_t>(starts),
                           dptr<const int64_t>(lengths), nspec, dptr<const int64_t>(d), chart, lo,
                           hi, k0, k1, dptr<double>(u), nu, dptr<double>(alpha),
                           dptr<double>(intercept), dptr<int64_t>(qplus), dptr<int64_t>(status),
                           stream)
                     : gsa::cuda::charts_fit<double>(
                           dptr<const double>(values), dptr<const int64_t>(starts),
                           dptr<const int64_t>(lengths), nspec, dptr<const int64_t>(d), chart, lo,
                           hi, k0, k1, dptr<double>(u), nu, dptr<double>(alpha),
                           dptr<double>(intercept), dptr<int64_t>(qplus), dptr<int64_t>(status),
                           stream);
        });
      },
      py::arg("values"), py::arg("f32"), py::arg("starts"), py::arg("lengths"), py::arg("nspec"),
      py::arg("d"), py::arg("chart"), py::arg("lo"), py::arg("hi"), py::arg("k0"), py::arg("k1"),
      py::arg("u"), py::arg("nu"), py::arg("alpha"), py::arg("intercept"), py::arg("qplus"),
      py::arg("status"), py::arg("stream"));
  m.def(
      "charts_residual",
      [](uintptr_t values, bool f32, uintptr_t starts, uintptr_t lengths, int64_t nspec,
         uintptr_t d, uintptr_t alpha, int kind, uintptr_t u, int64_t nu, uintptr_t out,
         uintptr_t qplus, uintptr_t status, uintptr_t stream) {
        launch("charts_residual", [&] {
          return f32 ? gsa::cuda::charts_residual<float>(
                           dptr<const float>(values), dptr<const int64_t>(starts),
                           dptr<const int64_t>(lengths), nspec, dptr<const int64_t>(d),
                           dptr<const double>(alpha), kind, dptr<double>(u), nu, dptr<double>(out),
                           dptr<int64_t>(qplus), dptr<int64_t>(status), stream)
                     : gsa::cuda::charts_residual<double>(
                           dptr<const double>(values), dptr<const int64_t>(starts),
                           dptr<const int64_t>(lengths), nspec, dptr<const int64_t>(d),
                           dptr<const double>(alpha), kind, dptr<double>(u), nu, dptr<double>(out),
                           dptr<int64_t>(qplus), dptr<int64_t>(status), stream);
        });
      },
      py::arg("values"), py::arg("f32"), py::arg("starts"), py::arg("lengths"), py::arg("nspec"),
      py::arg("d"), py::arg("alpha"), py::arg("kind"), py::arg("u"), py::arg("nu"),
      py::arg("out"), py::arg("qplus"), py::arg("status"), py::arg("stream"));
  m.def(
      "orbit_probs",
      [](uintptr_t alpha, int64_t n, int64_t d, uintptr_t out, uintptr_t stream) {
        launch("orbit_probs", [&] {
          return gsa::cuda::orbit_probs(dptr<const double>(alpha), n, d, dptr<double>(out), stream);
        });
      },
      py::arg("alpha"), py::arg("n"), py::arg("d"), py::arg("out"), py::arg("stream"));
  // depth family (cuda/depth.cu): λ of the DLN operator, the log-volume, the effective rank
  m.def(
      "dln_lambda_matrix",
      [](uintptr_t sk, uintptr_t sl, int64_t rows, int64_t mm, int64_t n, double inv_n,
         uintptr_t out, uintptr_t stream) {
        launch("dln_lambda_matrix", [&] {
          return gsa::cuda::dln_lambda_matrix(dptr<const double>(sk), dptr<const double>(sl), rows,
                                              mm, n, inv_n, dptr<double>(out), stream);
        });
      },
      py::arg("sk"), py::arg("sl"), py::arg("rows"), py::arg("m"), py::arg("n"), py::arg("inv_n"),
      py::arg("out"), py::arg("stream"));
  m.def(
      "dln_log_volume",
      [](uintptr_t sigma, int64_t rows, int64_t d, double inv_n, uintptr_t work, uintptr_t out_s,
         uintptr_t out_grad, uintptr_t stream) {
        launch("dln_log_volume", [&] {
          return gsa::cuda::dln_log_volume(dptr<const double>(sigma), rows, d, inv_n,
                                           dptr<double>(work), dptr<double>(out_s),
                                           dptr<double>(out_grad), stream);
        });
      },
      py::arg("sigma"), py::arg("rows"), py::arg("d"), py::arg("inv_n"), py::arg("work"),
      py::arg("out_s"), py::arg("out_grad"), py::arg("stream"));
  m.def(
      "effective_rank",
      [](uintptr_t values, bool f32, uintptr_t starts, uintptr_t lengths, int64_t n, uintptr_t out,
         uintptr_t stream) {
        launch("effective_rank", [&] {
          return f32 ? gsa::cuda::effective_rank_f32(dptr<const float>(values),
                                                     dptr<const int64_t>(starts),
                                                     dptr<const int64_t>(lengths), n,
                                                     dptr<double>(out), stream)
                     : gsa::cuda::effective_rank_f64(dptr<const double>(values),
                                                     dptr<const int64_t>(starts),
                                                     dptr<const int64_t>(lengths), n,
                                                     dptr<double>(out), stream);
        });
      },
      py::arg("values"), py::arg("f32"), py::arg("starts"), py::arg("lengths"), py::arg("n"),
      py::arg("out"), py::arg("stream"));
}
