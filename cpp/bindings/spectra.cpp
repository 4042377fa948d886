// pybind11 glue for the spectra kernels: unpack matrix descriptors, release the GIL, return the
// kernel status (code, index, info) for Python to turn into the right exception.
#include <vector>

#include "common.hpp"
#include "interrupt.hpp"
#include "gsa_fast/kernels/spectra.hpp"
#include "gsa_fast/linalg/band_eig.hpp"
#include "gsa_fast/linalg/bulge.hpp"
#include "gsa_fast/linalg/sterf_lanes.hpp"
#include "gsa_fast/math/bulge.hpp"

namespace gsa {
namespace bind {

namespace {

// Descriptors arrive as int64 arrays: data address, dtype code, rows, cols, ld, trans flag.
std::vector<cpu::MatrixRef> unpack(const carray<int64_t>& ptrs, const carray<int64_t>& dtypes,
                                   const carray<int64_t>& rows, const carray<int64_t>& cols,
                                   const carray<int64_t>& ld, const carray<int64_t>& trans) {
  const int64_t n = (int64_t)ptrs.size();
  require(dtypes.size() == n && rows.size() == n && cols.size() == n && ld.size() == n &&
              trans.size() == n,
          "spectra: descriptor arrays must have equal length");
  std::vector<cpu::MatrixRef> mats((size_t)n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t dt = dtypes.data()[i];
    require(dt >= 0 && dt <= 3, "spectra: unknown dtype code");
    const int64_t r = rows.data()[i], c = cols.data()[i], l = ld.data()[i];
    require(r >= 0 && c >= 0 && r < (int64_t(1) << 31) && c < (int64_t(1) << 31) &&
                l >= std::max<int64_t>(1, c) && l < (int64_t(1) << 31),
            "spectra: bad matrix dimensions");
    mats[(size_t)i] = cpu::MatrixRef{reinterpret_cast<const void*>(ptrs.data()[i]), (int)dt, r, c, l,
                                     trans.data()[i] != 0};
  }
  return mats;
}

}  // namespace

void bind_spectra(py::module_& m) {
  m.def(
      "spectra_gram",
      [](const carray<int64_t>& ptrs, const carray<int64_t>& dtypes, const carray<int64_t>& rows,
         const carray<int64_t>& cols, const carray<int64_t>& ld, const carray<int64_t>& trans,
         carray<double> out, const carray<int64_t>& out_offsets, int nthreads) {
        auto mats = unpack(ptrs, dtypes, rows, cols, ld, trans);
        require(out_offsets.size() == (py::ssize_t)mats.size(), "spectra_gram: out_offsets size");
        double* o = out_ptr(out, "out");
        const int64_t* off = out_offsets.data();
        cpu::SpectraStatus st;
        {
          InterruptScope ctrl_c(&poll_python_signals);  // Ctrl-C between units of work
          py::gil_scoped_release nogil;
          st = cpu::gram_batch(mats.data(), (int64_t)mats.size(), o, off, nthreads);
        }
        return status_tuple(st);
      },
      py::arg("ptrs").noconvert(), py::arg("dtypes").noconvert(), py::arg("rows").noconvert(),
      py::arg("cols").noconvert(), py::arg("ld").noconvert(), py::arg("trans").noconvert(),
      py::arg("out").noconvert(), py::arg("out_offsets").noconvert(), py::arg("nthreads") = 0);

  m.def(
      "spectra_svdvals",
      [](const carray<int64_t>& ptrs, const carray<int64_t>& dtypes, const carray<int64_t>& rows,
         const carray<int64_t>& cols, const carray<int64_t>& ld, const carray<int64_t>& trans,
         int method, int eig_driver, carray<double> out, const carray<int64_t>& out_offsets,
         int nthreads) {
        auto mats = unpack(ptrs, dtypes, rows, cols, ld, trans);
        require(out_offsets.size() == (py::ssize_t)mats.size(), "spectra_svdvals: out_offsets size");
        double* o = out_ptr(out, "out");
        const int64_t* off = out_offsets.data();
        cpu::SpectraStatus st;
        {
          InterruptScope ctrl_c(&poll_python_signals);  // Ctrl-C between units of work
          py::gil_scoped_release nogil;
          st = cpu::svdvals_batch(mats.data(), (int64_t)mats.size(), method, eig_driver, o, off,
                                  nthreads);
        }
        return status_tuple(st);
      },
      py::arg("ptrs").noconvert(), py::arg("dtypes").noconvert(), py::arg("rows").noconvert(),
      py::arg("cols").noconvert(), py::arg("ld").noconvert(), py::arg("trans").noconvert(),
      py::arg("method"), py::arg("eig_driver"), py::arg("out").noconvert(),
      py::arg("out_offsets").noconvert(), py::arg("nthreads") = 0);

  m.def(
      "spectra_topk",
      [](const carray<int64_t>& ptrs, const carray<int64_t>& dtypes, const carray<int64_t>& rows,
         const carray<int64_t>& cols, const carray<int64_t>& ld, const carray<int64_t>& trans,
         int64_t k, int64_t oversample, int power_iters, uint64_t seed, carray<double> out,
         const carray<int64_t>& out_offsets, carray<double> frob_sq, carray<double> err,
         int nthreads) {
        auto mats = unpack(ptrs, dtypes, rows, cols, ld, trans);
        const py::ssize_t n = (py::ssize_t)mats.size();
        require(out_offsets.size() == n && frob_sq.size() == n && err.size() == n,
                "spectra_topk: output sizes");
        require(k >= 1 && oversample >= 0 && power_iters >= 0, "spectra_topk: bad parameters");
        double* o = out_ptr(out, "out");
        double* f = out_ptr(frob_sq, "frob_sq");
        double* e = out_ptr(err, "err");
        const int64_t* off = out_offsets.data();
        cpu::SpectraStatus st;
        {
          InterruptScope ctrl_c(&poll_python_signals);  // Ctrl-C between units of work
          py::gil_scoped_release nogil;
          st = cpu::svdvals_topk_batch(mats.data(), (int64_t)n, k, oversample, power_iters, seed, o,
                                       off, f, e, nthreads);
        }
        return status_tuple(st);
      },
      py::arg("ptrs").noconvert(), py::arg("dtypes").noconvert(), py::arg("rows").noconvert(),
      py::arg("cols").noconvert(), py::arg("ld").noconvert(), py::arg("trans").noconvert(),
      py::arg("k"), py::arg("oversample"), py::arg("power_iters"), py::arg("seed"),
      py::arg("out").noconvert(), py::arg("out_offsets").noconvert(),
      py::arg("frob_sq").noconvert(), py::arg("err").noconvert(), py::arg("nthreads") = 0);
  // Second and third stages of the two-stage eigensolver on a band computed elsewhere (the GPU
  // route's dense → band reduction): `band` is (n, kd + 1) C-contiguous, i.e. LAPACK lower band
  // storage column-major with ldab = kd + 1; eigenvalues ascending into `out` (n); returns
  // dsterf's info (0 on success).
  m.def(
      "band_storage_eigvalues",
      [](const carray<double>& band, carray<double> out, int nthreads) {
        require(band.ndim() == 2 && band.shape(1) >= 1, "band_storage_eigvalues: band must be (n, kd + 1)");
        const int64_t n = (int64_t)band.shape(0);
        const int kd = (int)band.shape(1) - 1;
        require(n < (int64_t(1) << 31) && kd < (1 << 20), "band_storage_eigvalues: band too large");
        require(out.size() == (py::ssize_t)n, "band_storage_eigvalues: out must have n entries");
        double* w = out_ptr(out, "out");
        int info = 0;
        {
          InterruptScope ctrl_c(&poll_python_signals);  // Ctrl-C between band sweeps
          py::gil_scoped_release nogil;
          info = cpu::band_storage_eigvalues(n, kd, band.data(), kd + 1, nthreads, w);
        }
        return info;
      },
      py::arg("band").noconvert(), py::arg("out").noconvert(), py::arg("nthreads") = 1);
  // Test hook for the bulge chasing of math/bulge.hpp (the steps of the CUDA kernel cuda/bulge.cu):
  // `work` (n, ldw) C-contiguous is the working storage (row c = column c: work[c, r − c] = A(r, c),
  // ldw ≥ 2b, zero beyond the band), overwritten; d (n) and e (max(n − 1, 0)) receive the
  // tridiagonal matrix. order 0: serial (team > 1: each step on `team` threads with a barrier);
  // 1: wavefronts (threads workers; 1: descending sweeps); 2: the CUDA kernel's progress counters.
  m.def(
      "bulge_chase",
      [](carray<double> work, int b, carray<double> d, carray<double> e, int order, int threads,
         int shift, int team) {
        require(work.ndim() == 2, "bulge_chase: work must be (n, ldw)");
        const int64_t n = (int64_t)work.shape(0), ldw = (int64_t)work.shape(1);
        require(n < (int64_t(1) << 31) && b >= 0 && ldw >= std::max<int64_t>(1, 2 * (int64_t)std::min<int64_t>(b, std::max<int64_t>(n - 1, 0))),
                "bulge_chase: work must have at least 2b columns");
        require(d.size() == (py::ssize_t)n && e.size() == (py::ssize_t)std::max<int64_t>(n - 1, 0),
                "bulge_chase: d must have n entries and e n - 1");
        require(order >= 0 && order <= 2, "bulge_chase: order must be 0, 1 or 2");
        require(shift >= 2, "bulge_chase: shift must be >= 2");
        require(team >= 1 && team <= 64 && (team == 1 || order == 0), "bulge_chase: team must be 1..64 (> 1 with order 0 only)");
        double* W = out_ptr(work, "work");
        double* dp = out_ptr(d, "d");
        double* ep = e.size() ? out_ptr(e, "e") : nullptr;
        int rc;
        {
          InterruptScope ctrl_c(&poll_python_signals);  // Ctrl-C between sweeps / wavefronts
          py::gil_scoped_release nogil;
          rc = cpu::bulge_chase(n, b, W, ldw, dp, ep, static_cast<cpu::BulgeOrder>(order), threads, shift,
                                team);
        }
        require(rc == 0, "bulge_chase: bad arguments");
      },
      py::arg("work").noconvert(), py::arg("b"), py::arg("d").noconvert(), py::arg("e").noconvert(),
      py::arg("order") = 0, py::arg("threads") = 1, py::arg("shift") = 3, py::arg("team") = 1);
  // Test hook for the schedule of math/bulge.hpp: one row (t, s, j, kind, r0, rows, c0, cols) per
  // task, wavefront by wavefront (bulge_wavefront_range), sweeps ascending within a wavefront.
  m.def(
      "bulge_schedule",
      [](int n, int b, int shift) {
        require(n >= 0 && b >= 0 && shift >= 2, "bulge_schedule: needs n >= 0, b >= 0, shift >= 2");
        const int bb = std::min(b, std::max(n - 1, 0));
        std::vector<int64_t> rows;
        const int T = math::bulge_wavefronts(n, bb, shift);
        for (int t = 0; t < T; ++t) {
          int lo = 0, hi = 0;
          math::bulge_wavefront_range(n, bb, t, &lo, &hi, shift);
          for (int s = lo; s < hi; ++s) {
            const int j = math::bulge_task_at(n, bb, s, t, shift);
            const math::BulgeTask k = math::bulge_task(n, bb, s, j < 0 ? 0 : j);
            for (int64_t v : {(int64_t)t, (int64_t)s, (int64_t)j, (int64_t)k.kind, (int64_t)k.r0,
                              (int64_t)k.rows, (int64_t)k.c0, (int64_t)k.cols})
              rows.push_back(v);
          }
        }
        py::array_t<int64_t> out({(py::ssize_t)(rows.size() / 8), (py::ssize_t)8});
        std::copy(rows.begin(), rows.end(), out.mutable_data());
        return out;
      },
      py::arg("n"), py::arg("b"), py::arg("shift") = 3);
  // Test hook for the tridiagonal eigensolver behind the small-matrix route: problem k is
  // d[off[k]:off[k+1]] (diagonal) and e[off[k]:off[k+1]] (off-diagonal, last slot scratch), both
  // overwritten in place (eigenvalues ascending in d); returns dsterf-style info per problem.
  m.def(
      "sterf_lanes",
      [](carray<double> d, carray<double> e, const carray<int64_t>& off) {
        require(off.size() >= 1 && d.size() == e.size(), "sterf_lanes: bad layout");
        const int64_t count = (int64_t)off.size() - 1;
        const int64_t* o = off.data();
        require(o[0] == 0 && o[count] == (int64_t)d.size(), "sterf_lanes: bad offsets");
        double* dd = out_ptr(d, "d");
        double* ee = out_ptr(e, "e");
        std::vector<int64_t> n((size_t)count);
        std::vector<double*> dp((size_t)count), ep((size_t)count);
        for (int64_t k = 0; k < count; ++k) {
          require(o[k + 1] >= o[k], "sterf_lanes: offsets must be nondecreasing");
          n[(size_t)k] = o[k + 1] - o[k];
          dp[(size_t)k] = dd + o[k];
          ep[(size_t)k] = ee + o[k];
        }
        carray<int> info(count);
        int* inf = info.mutable_data();
        {
          py::gil_scoped_release nogil;
          cpu::sterf_lanes(count, n.data(), dp.data(), ep.data(), inf);
        }
        return info;
      },
      py::arg("d").noconvert(), py::arg("e").noconvert(), py::arg("off").noconvert());
}

}  // namespace bind
}  // namespace gsa
