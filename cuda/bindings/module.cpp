// The CUDA extension gsa_fast._cuda: takes raw device pointers (cupy's .data.ptr) handed over by
// the Python dispatcher, which has already validated shapes and dtypes. No math here.
#include <cuda_runtime.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "energy.cuh"
#include "orbit.cuh"
#include "sums.cuh"
#include "tails.cuh"

namespace py = pybind11;

namespace {

void check(int err, const char* what) {
  if (err != 0) {
    throw std::runtime_error(std::string(what) + ": CUDA error " + std::to_string(err) + " (" +
                             cudaGetErrorString(static_cast<cudaError_t>(err)) + ")");
  }
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
      "harmonic_range",
      [](uintptr_t a, uintptr_t b, uintptr_t s, int64_t n, uintptr_t h, uintptr_t l, uintptr_t q,
         uintptr_t stream) {
        int err;
        {
          py::gil_scoped_release nogil;
          err = gsa::cuda::harmonic_range(dptr<const int64_t>(a), dptr<const int64_t>(b),
                                          dptr<const double>(s), n, dptr<double>(h),
                                          dptr<double>(l), dptr<double>(q), stream);
        }
        check(err, "harmonic_range");
      },
      py::arg("a"), py::arg("b"), py::arg("s"), py::arg("n"), py::arg("out_h"), py::arg("out_l"),
      py::arg("out_q"), py::arg("stream"));
  m.def(
      "truncation_rank",
      [](uintptr_t values, bool f32, uintptr_t starts, uintptr_t lengths, int64_t nspec,
         uintptr_t eps, int neps, uintptr_t out, uintptr_t status, uintptr_t stream) {
        int err;
        {
          py::gil_scoped_release nogil;
          err = f32 ? gsa::cuda::truncation_rank_f32(
                          dptr<const float>(values), dptr<const int64_t>(starts),
                          dptr<const int64_t>(lengths), nspec, dptr<const double>(eps), neps,
                          dptr<int64_t>(out), dptr<int64_t>(status), stream)
                    : gsa::cuda::truncation_rank_f64(
                          dptr<const double>(values), dptr<const int64_t>(starts),
                          dptr<const int64_t>(lengths), nspec, dptr<const double>(eps), neps,
                          dptr<int64_t>(out), dptr<int64_t>(status), stream);
        }
        check(err, "truncation_rank");
      },
      py::arg("values"), py::arg("f32"), py::arg("starts"), py::arg("lengths"), py::arg("nspec"),
      py::arg("eps"), py::arg("neps"), py::arg("out"), py::arg("status"), py::arg("stream"));
  m.def(
      "spectrum_stats",
      [](uintptr_t values, bool f32, uintptr_t starts, uintptr_t lengths, int64_t nspec, double tol,
         uintptr_t radial_d, uintptr_t out_rank, uintptr_t out_entropy, uintptr_t out_radial,
         uintptr_t status, uintptr_t stream) {
        int err;
        {
          py::gil_scoped_release nogil;
          err = f32 ? gsa::cuda::spectrum_stats_f32(
                          dptr<const float>(values), dptr<const int64_t>(starts),
                          dptr<const int64_t>(lengths), nspec, tol, dptr<const int64_t>(radial_d),
                          dptr<int64_t>(out_rank), dptr<double>(out_entropy),
                          dptr<double>(out_radial), dptr<int64_t>(status), stream)
                    : gsa::cuda::spectrum_stats_f64(
                          dptr<const double>(values), dptr<const int64_t>(starts),
                          dptr<const int64_t>(lengths), nspec, tol, dptr<const int64_t>(radial_d),
                          dptr<int64_t>(out_rank), dptr<double>(out_entropy),
                          dptr<double>(out_radial), dptr<int64_t>(status), stream);
        }
        check(err, "spectrum_stats");
      },
      py::arg("values"), py::arg("f32"), py::arg("starts"), py::arg("lengths"), py::arg("nspec"),
      py::arg("tol"), py::arg("radial_d"), py::arg("out_rank"), py::arg("out_entropy"),
      py::arg("out_radial"), py::arg("status"), py::arg("stream"));
  m.def(
      "tails_energy",
      [](uintptr_t values, bool f32, uintptr_t starts, uintptr_t lengths, int64_t nspec,
         uintptr_t out_tails, uintptr_t tails_start, uintptr_t out_energy, uintptr_t energy_start,
         uintptr_t status, uintptr_t stream) {
        int err;
        {
          py::gil_scoped_release nogil;
          err = f32 ? gsa::cuda::tails_energy_f32(
                          dptr<const float>(values), dptr<const int64_t>(starts),
                          dptr<const int64_t>(lengths), nspec, dptr<double>(out_tails),
                          dptr<const int64_t>(tails_start), dptr<double>(out_energy),
                          dptr<const int64_t>(energy_start), dptr<int64_t>(status), stream)
                    : gsa::cuda::tails_energy_f64(
                          dptr<const double>(values), dptr<const int64_t>(starts),
                          dptr<const int64_t>(lengths), nspec, dptr<double>(out_tails),
                          dptr<const int64_t>(tails_start), dptr<double>(out_energy),
                          dptr<const int64_t>(energy_start), dptr<int64_t>(status), stream);
        }
        check(err, "tails_energy");
      },
      py::arg("values"), py::arg("f32"), py::arg("starts"), py::arg("lengths"), py::arg("nspec"),
      py::arg("out_tails"), py::arg("tails_start"), py::arg("out_energy"),
      py::arg("energy_start"), py::arg("status"), py::arg("stream"));
  m.def(
      "orbit_unary",
      [](int op, uintptr_t alpha, uintptr_t d, int64_t n, uintptr_t out, uintptr_t stream) {
        int err;
        {
          py::gil_scoped_release nogil;
          err = gsa::cuda::orbit_unary(op, dptr<const double>(alpha), dptr<const int64_t>(d), n,
                                       dptr<double>(out), stream);
        }
        check(err, "orbit_unary");
      },
      py::arg("op"), py::arg("alpha"), py::arg("d"), py::arg("n"), py::arg("out"),
      py::arg("stream"));
  m.def(
      "orbit_binary",
      [](int op, uintptr_t a, uintptr_t b, uintptr_t d, int64_t n, uintptr_t out,
         uintptr_t stream) {
        int err;
        {
          py::gil_scoped_release nogil;
          err = gsa::cuda::orbit_binary(op, dptr<const double>(a), dptr<const double>(b),
                                        dptr<const int64_t>(d), n, dptr<double>(out), stream);
        }
        check(err, "orbit_binary");
      },
      py::arg("op"), py::arg("a"), py::arg("b"), py::arg("d"), py::arg("n"), py::arg("out"),
      py::arg("stream"));
  // ---- orbit tails family (cuda/tails.cu) ----
  m.def(
      "orbit_tail",
      [](uintptr_t alpha, uintptr_t r, uintptr_t d, int64_t n, uintptr_t out, uintptr_t stream) {
        int err;
        {
          py::gil_scoped_release nogil;
          err = gsa::cuda::orbit_tail(dptr<const double>(alpha), dptr<const int64_t>(r),
                                      dptr<const int64_t>(d), n, dptr<double>(out), stream);
        }
        check(err, "orbit_tail");
      },
      py::arg("alpha"), py::arg("r"), py::arg("d"), py::arg("n"), py::arg("out"),
      py::arg("stream"));
  m.def(
      "orbit_truncation_rank",
      [](uintptr_t alpha, uintptr_t eps, uintptr_t d, int64_t n, uintptr_t out,
         uintptr_t stream) {
        int err;
        {
          py::gil_scoped_release nogil;
          err = gsa::cuda::orbit_truncation_rank(dptr<const double>(alpha),
                                                 dptr<const double>(eps), dptr<const int64_t>(d),
                                                 n, dptr<int64_t>(out), stream);
        }
        check(err, "orbit_truncation_rank");
      },
      py::arg("alpha"), py::arg("eps"), py::arg("d"), py::arg("n"), py::arg("out"),
      py::arg("stream"));
  m.def(
      "tail_margin",
      [](uintptr_t alpha, uintptr_t eps, uintptr_t d, int64_t n, uintptr_t out,
         uintptr_t stream) {
        int err;
        {
          py::gil_scoped_release nogil;
          err = gsa::cuda::tail_margin(dptr<const double>(alpha), dptr<const double>(eps),
                                       dptr<const int64_t>(d), n, dptr<double>(out), stream);
        }
        check(err, "tail_margin");
      },
      py::arg("alpha"), py::arg("eps"), py::arg("d"), py::arg("n"), py::arg("out"),
      py::arg("stream"));
  m.def(
      "plateau_thresholds",
      [](uintptr_t eps, uintptr_t d, int64_t n, int64_t rmax, uintptr_t out, uintptr_t stream) {
        int err;
        {
          py::gil_scoped_release nogil;
          err = gsa::cuda::plateau_thresholds(dptr<const double>(eps), dptr<const int64_t>(d), n,
                                              rmax, dptr<double>(out), stream);
        }
        check(err, "plateau_thresholds");
      },
      py::arg("eps"), py::arg("d"), py::arg("n"), py::arg("rmax"), py::arg("out"),
      py::arg("stream"));
}
