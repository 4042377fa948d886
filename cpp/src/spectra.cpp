// Batched singular spectra (issue #3). See kernels/spectra.hpp for the contract.
//
// Route "gram": float64 Gram by BLAS dsyrk, either straight on float64 input (zero copy) or on
// float64 panels converted from f32/f16/bf16 inside a per-worker buffer (the mixed-precision
// Gram LAPACK lacks), then a values-only symmetric eigensolver, reversed, clipped at 0, sqrt.
// Route "svd": dgesdd's values-only stages (svd_stages.cpp, interruptible) on a per-worker
// float64 copy. Route "topk": randomized range finder on float64 panels (spectra_topk below). Non-finite input is found inside the
// conversion pass (or, for float64 Gram input, from the Gram diagonal, which is non-finite
// exactly when the input is non-finite or the Gram overflows).
#include "gsa_fast/kernels/spectra.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <numeric>
#include <random>
#include <vector>

#include "gsa_fast/interrupt.hpp"
#include "gsa_fast/linalg/band_eig.hpp"
#include "gsa_fast/linalg/blas_threads.hpp"
#include "gsa_fast/linalg/lapack.hpp"
#include "gsa_fast/linalg/sterf_lanes.hpp"
#include "gsa_fast/linalg/svd_stages.hpp"
#include "gsa_fast/math/bf16.hpp"
#include "gsa_fast/math/pow2.hpp"
#include "gsa_fast/parallel.hpp"
#include "gsa_fast/simd.hpp"

namespace gsa {
namespace cpu {
namespace {

#include "spectra/convert.inl"  // storage formats, conversion to float64, finiteness scan, power-of-two scale, status merge
#include "spectra/gram.inl"  // per-worker workspace, float64 Gram (dsyrk / tiled), eigensolver choice and driver
#include "spectra/small.inl"  // small matrices (q <= 64): inline Gram + tridiagonal, four-lane QL
#include "spectra/svd.inl"  // dgesdd stages route (interruptible)
#include "spectra/batch.inl"  // batch driver: largest first, one matrix per worker or tiled
#include "spectra/topk.inl"  // randomized top-k range finder

}  // namespace

ThreadPlan plan_threads(int64_t nmat, int nthreads) {
  if (nthreads <= 0) nthreads = default_num_threads();
  nthreads = std::max(1, nthreads);
  if (nthreads == 1) return {1, 1};
  if (nmat >= 2 * (int64_t)nthreads) return {nthreads, 1};
  return {1, nthreads};
}

SpectraStatus gram_batch(const MatrixRef* mats, int64_t n, double* out, const int64_t* out_offsets,
                         int nthreads) {
  return run_batch(mats, n, nthreads, [&](int64_t i, Workspace& ws, int threads) {
    const MatrixRef& S = mats[i];
    const int64_t q = std::min(S.rows, S.cols);
    double* G = out + out_offsets[i];
    double scale = 1.0;
    SpectraStatus st = gram_checked(S, ws, G, &scale, threads);
    if (st.code) return st;
    // column-major lower (i ≥ j at G[i + j q]) → full symmetric; row-major equals column-major.
    // Two exact divisions by the power-of-two scale (scale² itself may be 0 or Inf).
    for (int64_t j = 0; j < q; ++j)
      for (int64_t a = j; a < q; ++a) {
        const double v = G[a + j * q] / scale / scale;
        G[a + j * q] = v;
        G[j + a * q] = v;
      }
    return st;
  });
}

SpectraStatus svdvals_batch(const MatrixRef* mats, int64_t n, int method, int eig_driver, double* out,
                            const int64_t* out_offsets, int nthreads) {
  auto small = [&](const MatrixRef& S) {
    const int64_t q = std::min(S.rows, S.cols);
    return method == kMethodGram && eig_driver == kEigAuto && q > 0 && q <= kSmallQ;
  };
  // the others first, planned by their own count (a large matrix beside many small ones gets
  // the workers for its Gram and eigensolver)
  std::vector<int64_t> small_idx, rest_idx;
  std::vector<MatrixRef> rest;
  for (int64_t i = 0; i < n; ++i) {
    if (small(mats[i])) {
      small_idx.push_back(i);
    } else {
      rest_idx.push_back(i);
      rest.push_back(mats[i]);
    }
  }
  SpectraStatus st;
  if (!rest.empty()) {
    // Matrices on the tridiagonal route leave their tridiagonal (d in out, e in ebuf) and scale
    // here; the second pass below finds their eigenvalues four at a time.
    const int64_t nr = (int64_t)rest.size();
    const int mthreads = plan_threads(nr, nthreads).matrix_threads;
    std::vector<char> tri((size_t)nr, 0);
    std::vector<int64_t> eoff((size_t)nr + 1, 0);
    for (int64_t j = 0; j < nr; ++j) {
      const int64_t q = std::min(rest[(size_t)j].rows, rest[(size_t)j].cols);
      tri[(size_t)j] = method == kMethodGram && tridiagonal_route(eig_driver, q, mthreads);
      eoff[(size_t)j + 1] = eoff[(size_t)j] + (tri[(size_t)j] ? q + 1 : 0);  // + 1: sterf_lanes' scratch slot
    }
    std::vector<double> ebuf((size_t)eoff[(size_t)nr]), scales((size_t)nr, 1.0);
    std::vector<char> reduced((size_t)nr, 0);  // tridiagonal written (its matrix did not fail)
    st = run_batch(rest.data(), nr, nthreads, [&](int64_t j, Workspace& ws, int threads) {
      const int64_t i = rest_idx[(size_t)j];
      double* o = out + out_offsets[i];
      if (method == kMethodSvd) return svdvals_svd_one(mats[i], ws, o);
      if (!tri[(size_t)j]) return svdvals_gram_one(mats[i], eig_driver, ws, o, threads);
      const SpectraStatus one = gram_tridiagonal_one(mats[i], ws, o, ebuf.data() + eoff[(size_t)j],
                                                     &scales[(size_t)j], threads);
      reduced[(size_t)j] = one.code == 0;
      return one;
    });
    if (st.code) st.index = rest_idx[(size_t)st.index];
    {
      std::vector<int64_t> todo;
      for (int64_t j = 0; j < nr; ++j)
        if (reduced[(size_t)j]) todo.push_back(j);
      std::mutex mu;
      parallel_for_ws((int64_t)todo.size(), nthreads, kTridiagChunk, [] { return Workspace{}; },
                      [&](Workspace& ws, int64_t b, int64_t e) {
        interrupt_point();
        const SpectraStatus cs = tridiagonal_values(rest.data(), todo.data() + b, e - b, rest_idx.data(), out,
                                                    out_offsets, ebuf.data(), eoff.data(), scales.data(), ws);
        if (cs.code) {
          std::lock_guard<std::mutex> lk(mu);
          keep_first(st, cs);
        }
      });
    }
  }
  if (small_idx.empty()) return st;
  // the small ones: chunks of kSmallChunk over the workers (no BLAS inside)
  const int64_t nsmall = (int64_t)small_idx.size();
  std::mutex mu;
  parallel_for_ws(nsmall, nthreads, kSmallChunk, [] { return Workspace{}; },
                  [&](Workspace& ws, int64_t b, int64_t e) {
    interrupt_point();
    const SpectraStatus cs = svdvals_small_chunk(mats, small_idx.data() + b, e - b, out, out_offsets, ws);
    if (cs.code) {
      std::lock_guard<std::mutex> lk(mu);
      keep_first(st, cs);
    }
  });
  return st;
}

SpectraStatus svdvals_topk_batch(const MatrixRef* mats, int64_t n, int64_t k, int64_t oversample,
                                 int power_iters, uint64_t seed, double* out,
                                 const int64_t* out_offsets, double* frob_sq, double* err,
                                 int nthreads) {
  for (int64_t i = 0; i < n; ++i) frob_sq[i] = err[i] = 0.0;
  return run_batch(mats, n, nthreads, [&](int64_t i, Workspace& ws, int) {
    return topk_one(mats[i], k, oversample, power_iters, seed, i, ws, out + out_offsets[i],
                    frob_sq + i, err + i);
  });
}

}  // namespace cpu
}  // namespace gsa
