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

#include "gsa_fast/blas_threads.hpp"
#include "gsa_fast/interrupt.hpp"
#include "gsa_fast/lapack.hpp"
#include "gsa_fast/math/bf16.hpp"
#include "gsa_fast/parallel.hpp"
#include "gsa_fast/simd.hpp"
#include "gsa_fast/kernels/band_eig.hpp"
#include "gsa_fast/kernels/sterf_lanes.hpp"
#include "gsa_fast/kernels/svd_stages.hpp"

namespace gsa {
namespace cpu {
namespace {

// ---- storage formats --------------------------------------------------------------------------

inline double load(const void* base, int dtype, int64_t idx) {
  switch (dtype) {
    case kF64: return static_cast<const double*>(base)[idx];
    case kF32: return (double)static_cast<const float*>(base)[idx];
    case kF16: return math::f16_to_double(static_cast<const uint16_t*>(base)[idx]);
    default: return math::bf16_to_double(static_cast<const uint16_t*>(base)[idx]);
  }
}

inline size_t elem_size(int dtype) { return dtype == kF64 ? 8 : dtype == kF32 ? 4 : 2; }

template <class Src, class Conv>
inline double convert_row(const Src* src, int64_t w, double scale, double* dst, Conv conv) {
  double acc = 0.0;  // becomes NaN iff some element is NaN or ±Inf (x·0)
  for (int64_t j = 0; j < w; ++j) {
    const double v = conv(src[j]);
    dst[j] = v * scale;
    acc += v * 0.0;
  }
  return acc;
}

// dst (row-major p×w, leading dimension w) = scale · S[r0:r0+p, c0:c0+w]. False if non-finite.
bool convert_block(const MatrixRef& S, int64_t r0, int64_t p, int64_t c0, int64_t w, double scale,
                   double* dst) {
  double acc = 0.0;
  const char* base = static_cast<const char*>(S.data);
  const size_t es = elem_size(S.dtype);
  for (int64_t i = 0; i < p; ++i) {
    const char* row = base + ((r0 + i) * S.ld + c0) * (int64_t)es;
    double* d = dst + i * w;
    switch (S.dtype) {
      case kF64:
        acc += convert_row(reinterpret_cast<const double*>(row), w, scale, d, [](double x) { return x; });
        break;
      case kF32:
        acc += convert_row(reinterpret_cast<const float*>(row), w, scale, d,
                           [](float x) { return (double)x; });
        break;
      case kF16:
        acc += convert_row(reinterpret_cast<const uint16_t*>(row), w, scale, d,
                           [](uint16_t x) { return math::f16_to_double(x); });
        break;
      default:
        acc += convert_row(reinterpret_cast<const uint16_t*>(row), w, scale, d,
                           [](uint16_t x) { return math::bf16_to_double(x); });
    }
  }
  return acc == 0.0;
}

// One pass over S: finiteness and max |s_ij|.
bool scan(const MatrixRef& S, double* maxabs) {
  double mx = 0.0, acc = 0.0;
  for (int64_t i = 0; i < S.rows; ++i) {
    const int64_t off = i * S.ld;
    for (int64_t j = 0; j < S.cols; ++j) {
      const double v = load(S.data, S.dtype, off + j);
      acc += v * 0.0;
      mx = std::max(mx, std::fabs(v));
    }
  }
  *maxabs = mx;
  return acc == 0.0;
}

// Power-of-two scale bringing max|s| to [0.5, 1) (exact; 1 for zero input). Capped at 2^1022,
// the largest power of two whose square root of the reciprocal is still normal: subnormal input
// (max|s| < 2^-1022) then lands in [2^-53, 1) — still exact, as scaling by a power of two is
// exact whenever the result is normal — instead of an infinite scale and NaN everywhere.
// Undo it by dividing twice (x / s / s), never by s²: s² over- or underflows at the ends.
double pow2_scale(double maxabs) {
  if (!(maxabs > 0.0)) return 1.0;
  int e = 0;
  std::frexp(maxabs, &e);
  return std::ldexp(1.0, std::min(-e, 1022));
}

int to_int(int64_t v) { return (int)v; }

// Keeps the error of the lowest matrix index (the one Python names); st carries its index.
void keep_first(SpectraStatus& first, const SpectraStatus& st) {
  if (st.code && (!first.code || st.index < first.index)) first = st;
}

// ---- per-worker workspace -----------------------------------------------------------------------

struct Workspace {
  std::vector<double> gram, panel, w, work, tau, aux;
  std::vector<int> iwork;
  // cached LAPACK workspace queries (by problem size)
  int64_t eig_q = -1;
  int eig_driver = -1;
  int lwork = 0, liwork = 0;
};

template <class V>
typename V::value_type* grow(V& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

// Panel length along the accumulation dimension: ~32 MiB of float64 per panel, at least 64.
int64_t panel_len(int64_t other, int64_t total) {
  const int64_t p = std::max<int64_t>(64, (int64_t(4) << 20) / std::max<int64_t>(1, other));
  return std::min(p, total);
}

// G (+)= the Gram of one float64 block X, split into tiles of the upper triangle that `threads`
// workers compute with single-threaded BLAS (our workers never spin, unlike OpenBLAS's).
// outer: X is column-major k×q (ld), G += XᵀX;  inner: X is column-major q×k (ld), G += XXᵀ.
void gram_tiles(const double* X, int64_t ld, int64_t q, int64_t k, bool outer, bool accumulate,
                double* G, int threads) {
  const double one = 1.0, beta = accumulate ? 1.0 : 0.0;
  const char U = 'U', N = 'N', T = 'T';
  const int iq = to_int(q), ik = to_int(k), ild = to_int(ld);
  if (q < 256) {
    scipy_dsyrk_(&U, outer ? &T : &N, &iq, &ik, &one, X, &ild, &beta, G, &iq, 1, 1);
    return;
  }
  // The tiling depends on q only, never on the thread count: each tile is one single-threaded
  // BLAS call whichever worker runs it, so the Gram is bitwise the same for any `threads`
  // (docs/reproducibility.md). One thread runs the same tiles in order.
  const int64_t tb = std::max<int64_t>(128, std::min<int64_t>(512, (q + 3) / 4));
  const int64_t nb = (q + tb - 1) / tb;
  const int64_t ntiles = nb * (nb + 1) / 2;
  // tile t ↔ (bi ≤ bj) in column order of the upper triangle
  std::vector<std::pair<int64_t, int64_t>> tiles;
  tiles.reserve((size_t)ntiles);
  for (int64_t bj = 0; bj < nb; ++bj)
    for (int64_t bi = 0; bi <= bj; ++bi) tiles.emplace_back(bi, bj);
  parallel_for(ntiles, threads, 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      interrupt_point();
      const int64_t i0 = tiles[(size_t)t].first * tb, j0 = tiles[(size_t)t].second * tb;
      const int ni = to_int(std::min(tb, q - i0)), nj = to_int(std::min(tb, q - j0));
      double* C = G + i0 + j0 * q;
      const double* Xi = outer ? X + i0 * ld : X + i0;
      const double* Xj = outer ? X + j0 * ld : X + j0;
      if (i0 == j0)
        scipy_dsyrk_(&U, outer ? &T : &N, &ni, &ik, &one, Xi, &ild, &beta, C, &iq, 1, 1);
      else if (outer)
        scipy_dgemm_(&T, &N, &ni, &nj, &ik, &one, Xi, &ild, Xj, &ild, &beta, C, &iq, 1, 1);
      else
        scipy_dgemm_(&N, &T, &ni, &nj, &ik, &one, Xi, &ild, Xj, &ild, &beta, C, &iq, 1, 1);
    }
  });
}

// dst = scale · S[r0:r0+p, c0:c0+w] (row-major, ld w), rows split over `threads` workers.
bool convert_block_par(const MatrixRef& S, int64_t r0, int64_t p, int64_t c0, int64_t w, double scale,
                       double* dst, int threads) {
  if (threads <= 1 || p * w < (int64_t(1) << 16)) return convert_block(S, r0, p, c0, w, scale, dst);
  std::atomic<bool> ok{true};
  parallel_for(p, threads, std::max<int64_t>(1, p / (4 * threads)), [&](int64_t b, int64_t e) {
    if (!convert_block(S, r0 + b, e - b, c0, w, scale, dst + b * w)) ok.store(false);
  });
  return ok.load();
}

// Gram of S into G (q×q column-major, upper triangle), scaled by scale² when converting.
// outer: S Sᵀ (rows×rows), else Sᵀ S (cols×cols). direct: float64 input used in place.
bool gram_into(const MatrixRef& S, bool outer, bool direct, double scale, Workspace& ws, double* G,
               int threads) {
  const int64_t q = outer ? S.rows : S.cols;
  if (direct) {
    // C-contiguous S (rows×cols, ld) is the column-major cols×rows matrix B = Sᵀ:
    // S Sᵀ = BᵀB (outer), SᵀS = BBᵀ (inner).
    gram_tiles(static_cast<const double*>(S.data), S.ld, q, outer ? S.cols : S.rows, outer, false, G,
               threads);
    return true;
  }
  if (outer) {  // panels of columns: P = S[:, c0:c0+p] row-major rows×p = column-major p×rows
    const int64_t p = panel_len(S.rows, S.cols);
    double* P = grow(ws.panel, (size_t)(p * S.rows));
    for (int64_t c0 = 0; c0 < S.cols; c0 += p) {
      interrupt_point();
      const int64_t w = std::min(p, S.cols - c0);
      if (!convert_block_par(S, 0, S.rows, c0, w, scale, P, threads)) return false;
      gram_tiles(P, w, q, w, true, c0 > 0, G, threads);
    }
  } else {  // panels of rows: P = S[r0:r0+p, :] row-major p×cols = column-major cols×p
    const int64_t p = panel_len(S.cols, S.rows);
    double* P = grow(ws.panel, (size_t)(p * S.cols));
    for (int64_t r0 = 0; r0 < S.rows; r0 += p) {
      interrupt_point();
      const int64_t h = std::min(p, S.rows - r0);
      if (!convert_block_par(S, r0, h, 0, S.cols, scale, P, threads)) return false;
      gram_tiles(P, S.cols, q, h, false, r0 > 0, G, threads);
    }
  }
  return true;
}

// Which Gram the user's matrix A gets: AᵀA if m ≥ n else AAᵀ, A = S or Sᵀ. In terms of S:
// outer (S Sᵀ) when S has fewer rows than columns; for square S, outer iff S stores Aᵀ.
bool gram_is_outer(const MatrixRef& S) { return S.trans ? S.cols >= S.rows : S.rows < S.cols; }

// Float64 Gram of S with the non-finite / overflow / underflow handling shared by the Gram
// route and gram_batch. On success *scale is the factor the Gram was computed with (σ·scale).
SpectraStatus gram_checked(const MatrixRef& S, Workspace& ws, double* G, double* scale_out,
                           int threads) {
  SpectraStatus st;
  const bool outer = gram_is_outer(S);
  const int64_t q = outer ? S.rows : S.cols;
  double scale = 1.0;
  if (S.dtype == kF64) {
    gram_into(S, outer, /*direct=*/true, 1.0, ws, G, threads);
    double dmax = 0.0, acc = 0.0;
    for (int64_t i = 0; i < q; ++i) {
      const double d = G[i + i * q];
      acc += d * 0.0;
      dmax = std::max(dmax, d);
    }
    const bool finite = acc == 0.0;
    // Redo with an exact power-of-two scaling when the Gram overflowed, or when it is so small
    // that its entries underflow (σ_1² below ~1e-280).
    // (A zero Gram is checked too: it may be an underflowed tiny matrix.)
    if (!finite || dmax < 1e-280) {
      double mx = 0.0;
      if (!scan(S, &mx)) {
        st.code = 1;
        return st;
      }
      if (mx > 0.0) {
        scale = pow2_scale(mx);
        if (!gram_into(S, outer, /*direct=*/false, scale, ws, G, threads)) st.code = 1;
      }
    }
  } else if (!gram_into(S, outer, /*direct=*/false, 1.0, ws, G, threads)) {
    st.code = 1;
  }
  *scale_out = scale;
  return st;
}

// Smallest q for the band route (below it dsyevd is as fast or faster).
constexpr int64_t kBandMinQ = 2048;

int choose_driver(int driver, int64_t q) {
  if (driver != kEigAuto) return driver;
  // Measured eigenvalues at q = 4096 on 2 cores (bench/results/spectra.md), seconds:
  //                         1 thread  2 threads, cores free  2 threads, a core busy elsewhere
  //   dsyevd (pool)         5.4       3.5–3.7                 5.6
  //   dsyevd_2stage (pool)  5.1       3.6                     10.2
  //   band (our sy2sb)      3.6       ≈ 2.2                   —  (whole svdvals: 7.2 s vs 8.1 s
  //                                                              on one thread)
  // LAPACK's two-stage first reduction is level-3 work whose OpenBLAS jobs wait on each other,
  // so it collapses when a core is taken; ours hands tiles out dynamically instead.
  return q >= kBandMinQ ? kEigBand : kEigSyevd;
}

// Eigenvalues (ascending) of the q×q Gram G (upper triangle), destroyed, by LAPACK dsyevd or
// dsyevd_2stage with the OpenBLAS threads the caller set. Returns LAPACK info.
int eig_values(int64_t q, double* G, int driver, Workspace& ws, double* w) {
  const int n = to_int(q);
  const char jobz = 'N', uplo = 'U';
  int info = 0;
  driver = choose_driver(driver, q);
  if (ws.eig_q != q || ws.eig_driver != driver) {
    double wq = 0.0;
    int iwq = 0, lw = -1, liw = -1;
    if (driver == kEigSyevd2Stage)
      scipy_dsyevd_2stage_(&jobz, &uplo, &n, G, &n, w, &wq, &lw, &iwq, &liw, &info, 1, 1);
    else
      scipy_dsyevd_(&jobz, &uplo, &n, G, &n, w, &wq, &lw, &iwq, &liw, &info, 1, 1);
    if (info != 0) return info;
    ws.lwork = std::max(1, (int)wq);
    ws.liwork = std::max(1, iwq);
    ws.eig_q = q;
    ws.eig_driver = driver;
  }
  double* work = grow(ws.work, (size_t)ws.lwork);
  int* iwork = grow(ws.iwork, (size_t)ws.liwork);
  const int lw = ws.lwork, liw = ws.liwork;
  if (driver == kEigSyevd2Stage)
    scipy_dsyevd_2stage_(&jobz, &uplo, &n, G, &n, w, work, &lw, iwork, &liw, &info, 1, 1);
  else
    scipy_dsyevd_(&jobz, &uplo, &n, G, &n, w, work, &lw, iwork, &liw, &info, 1, 1);
  return info;
}

// Ascending eigenvalues of a Gram (σ²·scale²) → descending σ.
void eig_to_sigma(const double* w, int64_t q, double scale, double* out) {
  for (int64_t j = 0; j < q; ++j) out[j] = std::sqrt(std::max(w[q - 1 - j], 0.0)) / scale;
}

// ---- small matrices: no BLAS/LAPACK call overhead ---------------------------------------------
// For q ≤ kSmallQ the per-call overheads of dsyrk/dsyevd (workspace queries, level-2 BLAS calls
// in the unblocked dsytd2) dominate. Here: a float64 copy Y (K×q, the accumulation index first),
// the Gram by vectorizable rank-4 row updates, a Householder tridiagonalization in the same
// style (LAPACK dlarfg reflectors, lower triangle only), then dsterf's QL run four matrices at a
// time (sterf_lanes). Measured per matrix (1 thread, q = 64, bench/small_path.py): Gram +
// tridiagonal 56 µs, eigenvalues 27 µs (dsterf: 67 µs); numpy's batched dgesdd 193 µs.
constexpr int64_t kSmallQ = 64;

// AVX2/FMA clones of the small-matrix loops with run-time dispatch (the build has no -march).
#define GSA_SMALL_CLONES GSA_CLONES("avx2")

// Y (row-major K×q) = scale · (S if !outer else Sᵀ). False if non-finite.
bool small_copy(const MatrixRef& S, bool outer, double* Y) {
  if (!outer) return convert_block(S, 0, S.rows, 0, S.cols, 1.0, Y);
  // Sᵀ: convert row i of S into column i of Y (K = cols, q = rows)
  double acc = 0.0;
  for (int64_t i = 0; i < S.rows; ++i) {
    const int64_t off = i * S.ld;
    for (int64_t j = 0; j < S.cols; ++j) {
      const double v = load(S.data, S.dtype, off + j);
      acc += v * 0.0;
      Y[j * S.rows + i] = v;
    }
  }
  return acc == 0.0;
}

// Householder tridiagonalization of the symmetric row-major n×n A given by its lower triangle
// (destroyed): diagonal d[0..n), off-diagonal e[0..n-1); u, p are n-long scratch.
GSA_SMALL_CLONES void small_tridiag(double* A, int64_t n, double* d, double* e, double* u, double* p) {
  for (int64_t k = 0; k + 1 < n; ++k) {
    const int64_t m = n - k - 1;  // length of x = A[k+1:, k]
    d[k] = A[k * n + k];
    double* A22 = A + (k + 1) * n + (k + 1);
    const double x0 = A[(k + 1) * n + k];
    double xmax = 0.0;
    for (int64_t i = 1; i < m; ++i) xmax = std::max(xmax, std::fabs(A[(k + 1 + i) * n + k]));
    if (m == 1 || xmax == 0.0) {  // nothing to annihilate
      e[k] = x0;
      continue;
    }
    xmax = std::max(xmax, std::fabs(x0));
    double ss = 0.0;
    for (int64_t i = 0; i < m; ++i) {
      const double t = A[(k + 1 + i) * n + k] / xmax;
      ss += t * t;
    }
    const double norm = xmax * std::sqrt(ss);
    const double beta = x0 >= 0 ? -norm : norm;  // H x = beta e_1
    const double tau = (beta - x0) / beta;
    const double inv = 1.0 / (x0 - beta);
    u[0] = 1.0;
    for (int64_t i = 1; i < m; ++i) u[i] = A[(k + 1 + i) * n + k] * inv;
    e[k] = beta;
    // p = τ A22 u from the lower triangle only: row i gives the dot Σ_{j<i} a_ij u_j to p_i and
    // the axpy a_ij·u_i to p_j (j < i); both contiguous in the row.
    for (int64_t j = 0; j < m; ++j) p[j] = 0.0;
    for (int64_t i = 0; i < m; ++i) {
      const double ui = u[i];
      const double* row = A22 + i * n;
      // four-lane partial sums (simd.hpp's v4d: the dot vectorizes without -ffast-math)
      v4d acc = {0.0, 0.0, 0.0, 0.0};
      const v4d vu = {ui, ui, ui, ui};
      int64_t j = 0;
      for (; j + 4 <= i; j += 4) {
        v4d r, uu, pp;
        load4(r, row + j);
        load4(uu, u + j);
        load4(pp, p + j);
        acc += r * uu;
        pp += r * vu;
        store4(p + j, pp);
      }
      double dot = hsum4(acc);
      for (; j < i; ++j) {
        dot += row[j] * u[j];
        p[j] += row[j] * ui;
      }
      p[i] += dot + row[i] * ui;
    }
    for (int64_t j = 0; j < m; ++j) p[j] *= tau;
    double pu = 0.0;
    for (int64_t j = 0; j < m; ++j) pu += p[j] * u[j];
    const double K = 0.5 * tau * pu;
    for (int64_t j = 0; j < m; ++j) p[j] -= K * u[j];  // p is now w
    // A22 −= u wᵀ + w uᵀ, lower triangle only (half the flops of the full update)
    for (int64_t i = 0; i < m; ++i) {
      const double ui = u[i], wi = p[i];
      double* row = A22 + i * n;
      for (int64_t j = 0; j <= i; ++j) row[j] -= ui * p[j] + wi * u[j];
    }
  }
  d[n - 1] = A[(n - 1) * n + (n - 1)];
}

// The tridiagonal T (d, e: q entries each, e[q-1] scratch) of scale²·Gram of S, scale an exact
// power of two bringing max|s| to [0.5, 1) (the Gram and its reduction stay O(K)). False if S is
// not finite.
GSA_SMALL_CLONES bool small_reduce(const MatrixRef& S, Workspace& ws, double* d, double* e,
                                   double* scale_out) {
  const bool outer = S.rows < S.cols;  // the smaller side (σ does not care which for square)
  const int64_t q = outer ? S.rows : S.cols, K = outer ? S.cols : S.rows;
  double* Y = grow(ws.panel, (size_t)(K * q));
  if (!small_copy(S, outer, Y)) return false;
  double mx = 0.0;
  for (int64_t t = 0; t < K * q; ++t) mx = std::max(mx, std::fabs(Y[t]));
  const double scale = pow2_scale(mx);
  for (int64_t t = 0; t < K * q; ++t) Y[t] *= scale;
  double* G = grow(ws.gram, (size_t)(q * q));
  std::fill(G, G + q * q, 0.0);
  // lower triangle (j ≤ i) only: small_tridiag reads no more. Rank-4 updates: each load and
  // store of G carries four products (measured 1.6× faster than rank-1 at q = 64).
  int64_t k = 0;
  for (; k + 4 <= K; k += 4) {
    const double *y0 = Y + k * q, *y1 = y0 + q, *y2 = y1 + q, *y3 = y2 + q;
    for (int64_t i = 0; i < q; ++i) {
      const double c0 = y0[i], c1 = y1[i], c2 = y2[i], c3 = y3[i];
      double* row = G + i * q;
      for (int64_t j = 0; j <= i; ++j) row[j] += (c0 * y0[j] + c1 * y1[j]) + (c2 * y2[j] + c3 * y3[j]);
    }
  }
  for (; k < K; ++k) {
    const double* y = Y + k * q;
    for (int64_t i = 0; i < q; ++i) {
      const double c = y[i];
      double* row = G + i * q;
      for (int64_t j = 0; j <= i; ++j) row[j] += c * y[j];
    }
  }
  double* u = grow(ws.aux, (size_t)(2 * q));
  small_tridiag(G, q, d, e, u, u + q);
  *scale_out = scale;
  return true;
}

// Small matrices (q ≤ kSmallQ) in chunks: each chunk is reduced to tridiagonals one matrix at a
// time, then all their eigenvalues come out of sterf_lanes, which runs four of them interleaved
// (dsterf's latency-bound inner loop, measured 2.0–2.3× faster than dsterf per matrix).
constexpr int64_t kSmallChunk = 32;

SpectraStatus svdvals_small_chunk(const MatrixRef* mats, const int64_t* idx, int64_t count,
                                  double* out, const int64_t* out_offsets, Workspace& ws) {
  SpectraStatus first;
  int64_t total = 0;  // d and e of every matrix, q entries each
  for (int64_t t = 0; t < count; ++t) total += 2 * std::min(mats[idx[t]].rows, mats[idx[t]].cols);
  std::vector<double> tri((size_t)total);
  std::vector<int64_t> ns, slot;
  std::vector<double> scales;
  std::vector<double*> dp, ep;
  double* next = tri.data();
  for (int64_t t = 0; t < count; ++t) {
    const int64_t i = idx[t];
    const MatrixRef& S = mats[i];
    const int64_t q = std::min(S.rows, S.cols);
    double* d = next;
    next += 2 * q;
    double scale = 1.0;
    if (!small_reduce(S, ws, d, d + q, &scale)) {
      keep_first(first, SpectraStatus{1, i, 0});
      continue;
    }
    ns.push_back(q);
    dp.push_back(d);
    ep.push_back(d + q);
    scales.push_back(scale);
    slot.push_back(i);
  }
  std::vector<int> info(ns.size());
  sterf_lanes((int64_t)ns.size(), ns.data(), dp.data(), ep.data(), info.data());
  for (size_t k = 0; k < ns.size(); ++k) {
    if (info[k] != 0) {
      keep_first(first, SpectraStatus{2, slot[k], info[k]});
      continue;
    }
    eig_to_sigma(dp[k], ns[k], scales[k], out + out_offsets[slot[k]]);
  }
  return first;
}

SpectraStatus svdvals_small_one(const MatrixRef& S, Workspace& ws, double* out) {
  const int64_t idx = 0, off = 0;
  return svdvals_small_chunk(&S, &idx, 1, out, &off, ws);
}

SpectraStatus svdvals_gram_one(const MatrixRef& S, int driver, Workspace& ws, double* out,
                               int threads) {
  if (std::min(S.rows, S.cols) <= kSmallQ && driver == kEigAuto) return svdvals_small_one(S, ws, out);
  const int64_t q = std::min(S.rows, S.cols);
  double* G = grow(ws.gram, (size_t)(q * q));
  double scale = 1.0;
  SpectraStatus st = gram_checked(S, ws, G, &scale, threads);
  if (st.code) return st;
  double* w = grow(ws.w, (size_t)q);
  int info = 0;
  if (choose_driver(driver, q) == kEigBand) {
    // the band route reads the lower triangle: mirror the Gram's upper one (column-major)
    parallel_for(q, threads, 64, [&](int64_t b, int64_t e) {
      for (int64_t j = b; j < e; ++j)
        for (int64_t i = j + 1; i < q; ++i) G[i + j * q] = G[j + i * q];
    });
    info = band_eigvalues(q, G, q, threads, w);
  } else {
    // threads > 1 only comes from run_batch with a single batch worker, which holds the
    // OpenBLAS guard: LAPACK gets that many OpenBLAS threads, run on gsa_fast's blocking pool
    // (measured at q = 4096 on 2 cores: 1.4× faster when both are free, 3 % slower than one
    // thread when another process holds a core; OpenBLAS's own threads: 37 % slower there).
    // (not in a child forked mid-call: OpenBLAS's threaded driver may be locked there)
    const bool blas_mt = threads > 1 && !forked_during_blas_call();
    if (blas_mt) scipy_openblas_set_num_threads(threads);
    info = eig_values(q, G, driver, ws, w);
    if (blas_mt) scipy_openblas_set_num_threads(1);
  }
  if (info != 0) {
    st.code = 2;
    st.info = info;
    return st;
  }
  eig_to_sigma(w, q, scale, out);
  return st;
}

// Singular values of a float64 copy by dgesdd's stages, one panel at a time (svd_stages.hpp:
// interruptible). The copy is laid out tall column-major (m ≥ n), the shape dgesdd starts from:
// S itself read as column-major is cols×rows, tall when cols ≥ rows; otherwise the copy is
// transposed in blocks of rows. LAPACK's reductions are scale-invariant up to over/underflow;
// values beyond that range are handled by an exact power-of-two scaling, as dgesdd does.
SpectraStatus svdvals_svd_one(const MatrixRef& S, Workspace& ws, double* out) {
  SpectraStatus st;
  const bool tall = S.cols >= S.rows;
  const int64_t m = tall ? S.cols : S.rows, n = tall ? S.rows : S.cols;
  double* A = grow(ws.gram, (size_t)(S.rows * S.cols));
  double mx = 0.0;
  if (!scan(S, &mx)) {
    st.code = 1;
    return st;
  }
  // dgesdd's own rule: scale into [sqrt(safmin)/eps, sqrt(safmax)·eps] when outside
  const double scale = (mx > 0.0 && (mx < 1e-140 || mx > 1e140)) ? pow2_scale(mx) : 1.0;
  if (tall) {
    const int64_t blk = std::max<int64_t>(1, (int64_t(1) << 20) / std::max<int64_t>(1, S.cols));
    for (int64_t r0 = 0; r0 < S.rows; r0 += blk) {
      interrupt_point();
      convert_block(S, r0, std::min(blk, S.rows - r0), 0, S.cols, scale, A + r0 * S.cols);
    }
  } else {  // A (col-major rows×cols) = S: blocks of 64 rows, converted then scattered
    constexpr int64_t kB = 64;
    double* P = grow(ws.panel, (size_t)(kB * S.cols));
    for (int64_t r0 = 0; r0 < S.rows; r0 += kB) {
      interrupt_point();
      const int64_t h = std::min(kB, S.rows - r0);
      convert_block(S, r0, h, 0, S.cols, scale, P);
      for (int64_t j = 0; j < S.cols; ++j)
        for (int64_t i = 0; i < h; ++i) A[r0 + i + j * S.rows] = P[i * S.cols + j];
    }
  }
  const int info = svd_values_staged(m, n, A, m, out, ws.work);
  if (info != 0) {
    st.code = 2;
    st.info = info;
    return st;
  }
  for (int64_t j = 0; j < n; ++j) out[j] /= scale;
  return st;
}

// ---- batch driver -------------------------------------------------------------------------------

double cost(const MatrixRef& S) {
  const double q = (double)std::min(S.rows, S.cols), p = (double)std::max(S.rows, S.cols);
  return q * q * p + q * q * q;
}

template <class Body>
SpectraStatus run_batch(const MatrixRef* mats, int64_t n, int nthreads, Body body) {
  SpectraStatus first;
  if (n <= 0) return first;
  const ThreadPlan plan = plan_threads(n, nthreads);
  std::vector<int64_t> order((size_t)n);
  std::iota(order.begin(), order.end(), int64_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return cost(mats[a]) > cost(mats[b]); });
  std::atomic<int64_t> next{0};
  std::mutex mu;
  // OpenBLAS stays single-threaded: its idle threads spin-wait, which costs 2–12× on a shared
  // machine (measured, bench/results/spectra.md). Intra-matrix parallelism uses our workers.
  BlasThreadsGuard guard(1);
  parallel_for(plan.batch_workers, plan.batch_workers, 1, [&](int64_t wb, int64_t we) {
    for (int64_t wid = wb; wid < we; ++wid) {
      Workspace ws;
      for (;;) {
        interrupt_point();  // between matrices
        const int64_t j = next.fetch_add(1);
        if (j >= n) break;
        const int64_t i = order[(size_t)j];
        if (std::min(mats[i].rows, mats[i].cols) == 0) continue;
        SpectraStatus st = body(i, ws, plan.matrix_threads);
        if (st.code) {
          st.index = i;
          std::lock_guard<std::mutex> lk(mu);
          keep_first(first, st);
        }
      }
    }
  });
  return first;
}

// ---- randomized top-k ---------------------------------------------------------------------------

// Y (r×l, col-major, ld r) = S·X (X: c×l, ld c)   [adjoint=false]
// Z (c×l, col-major, ld c) = Sᵀ·Y                  [adjoint=true]
// over float64 row panels of S (scaled); *sumsq (optional) gets Σ (scale·s_ij)².
bool apply(const MatrixRef& S, double scale, bool adjoint, const double* X, double* Y,
           Workspace& ws, double* sumsq, int64_t l) {
  const int64_t r = S.rows, c = S.cols;
  const int64_t p = panel_len(c, r);
  double* P = grow(ws.panel, (size_t)(p * c));
  const int il = to_int(l), ic = to_int(c), ir = to_int(r);
  const double one = 1.0, zero = 0.0;
  double ss = 0.0;
  for (int64_t r0 = 0; r0 < r; r0 += p) {
    interrupt_point();
    const int64_t h = std::min(p, r - r0);
    if (!convert_block(S, r0, h, 0, c, scale, P)) return false;
    if (sumsq)
      for (int64_t t = 0; t < h * c; ++t) ss += P[t] * P[t];
    const int ih = to_int(h);
    if (!adjoint) {  // Y[r0:r0+h, :] = Pᵀ X  (P col-major c×h)
      const char T = 'T', N = 'N';
      scipy_dgemm_(&T, &N, &ih, &il, &ic, &one, P, &ic, X, &ic, &zero, Y + r0, &ir, 1, 1);
    } else {  // Z += P · X[r0:r0+h, :]
      const char N = 'N';
      const double beta = r0 == 0 ? 0.0 : 1.0;
      scipy_dgemm_(&N, &N, &ic, &il, &ih, &one, P, &ic, X + r0, &ir, &beta, Y, &ic, 1, 1);
    }
  }
  if (sumsq) *sumsq = ss;
  return true;
}

// Orthonormal basis of the columns of Y (rows×l, col-major) in place. Returns LAPACK info.
int orthonormalize(double* Y, int64_t rows, int64_t l, Workspace& ws) {
  const int m = to_int(rows), n = to_int(l);
  double* tau = grow(ws.tau, (size_t)l);
  int info = 0, lw = -1;
  double q1 = 0.0, q2 = 0.0;
  scipy_dgeqrf_(&m, &n, Y, &m, tau, &q1, &lw, &info);
  if (info) return info;
  scipy_dorgqr_(&m, &n, &n, Y, &m, tau, &q2, &lw, &info);
  if (info) return info;
  lw = std::max(1, (int)std::max(q1, q2));
  double* work = grow(ws.work, (size_t)lw);
  scipy_dgeqrf_(&m, &n, Y, &m, tau, work, &lw, &info);
  if (info) return info;
  scipy_dorgqr_(&m, &n, &n, Y, &m, tau, work, &lw, &info);
  return info;
}

SpectraStatus topk_one(const MatrixRef& S, int64_t k, int64_t oversample, int power_iters,
                       uint64_t seed, int64_t index, Workspace& ws, double* out, double* frob_sq,
                       double* err) {
  SpectraStatus st;
  const int64_t r = S.rows, c = S.cols, q = std::min(r, c);
  const int64_t kk = std::min(k, q);
  double mx = 0.0;
  if (!scan(S, &mx)) {
    st.code = 1;
    return st;
  }
  const double scale = pow2_scale(mx);
  const int64_t l = std::min(kk + oversample, q);
  if (l >= q) {
    // The sketch would be as large as the matrix: compute every value (Gram route, exact
    // Frobenius energy from the same pass) and report a zero truncation bound.
    std::vector<double> all((size_t)q);
    st = svdvals_gram_one(S, kEigAuto, ws, all.data(), 1);
    if (st.code) return st;
    // exact energy: a direct sum of squares (not Σσ², which carries the eigensolver's rounding)
    double ss = 0.0;
    for (int64_t i = 0; i < r; ++i)
      for (int64_t j = 0; j < c; ++j) {
        const double v = load(S.data, S.dtype, i * S.ld + j) * scale;
        ss += v * v;
      }
    *frob_sq = ss / scale / scale;
    *err = 0.0;
    std::copy(all.begin(), all.begin() + kk, out);
    return st;
  }
  // Buffers: Y (r×l), Z (c×l).
  std::vector<double> Y((size_t)(r * l)), Z((size_t)(c * l));
  std::mt19937_64 gen(seed * 0x9E3779B97F4A7C15ULL + (uint64_t)index);
  std::normal_distribution<double> nd(0.0, 1.0);
  for (auto& z : Z) z = nd(gen);
  double ss = 0.0;
  auto fail = [&](int info) {
    st.code = info < 0 ? 1 : 2;
    st.info = info < 0 ? 0 : info;
    return st;
  };
  if (!apply(S, scale, false, Z.data(), Y.data(), ws, &ss, l)) return fail(-1);
  int info = orthonormalize(Y.data(), r, l, ws);
  if (info) return fail(info);
  for (int it = 0; it < power_iters; ++it) {
    if (!apply(S, scale, true, Y.data(), Z.data(), ws, nullptr, l)) return fail(-1);
    if ((info = orthonormalize(Z.data(), c, l, ws))) return fail(info);
    if (!apply(S, scale, false, Z.data(), Y.data(), ws, nullptr, l)) return fail(-1);
    if ((info = orthonormalize(Y.data(), r, l, ws))) return fail(info);
  }
  // Bᵀ = Sᵀ Q (c×l)
  if (!apply(S, scale, true, Y.data(), Z.data(), ws, nullptr, l)) return fail(-1);
  // Residual ‖S − Q B‖_F by a direct pass: per row panel, Eᵀ_R = P − Bᵀ Q_Rᵀ.
  double res = 0.0;
  {
    const int64_t p = panel_len(c, r);
    double* P = grow(ws.panel, (size_t)(p * c));
    const int il = to_int(l), ic = to_int(c), ir = to_int(r);
    const double mone = -1.0, one = 1.0;
    const char N = 'N', T = 'T';
    for (int64_t r0 = 0; r0 < r; r0 += p) {
      const int64_t h = std::min(p, r - r0);
      convert_block(S, r0, h, 0, c, scale, P);
      const int ih = to_int(h);
      scipy_dgemm_(&N, &T, &ic, &ih, &il, &mone, Z.data(), &ic, Y.data() + r0, &ir, &one, P, &ic, 1, 1);
      for (int64_t t = 0; t < h * c; ++t) res += P[t] * P[t];
    }
  }
  // σ(B) by dgesdd on Bᵀ (c×l), destroyed.
  std::vector<double> sv((size_t)l);
  {
    const int m = to_int(c), n = to_int(l), one = 1;
    const char jobz = 'N';
    int lw = -1;
    double wq = 0.0, dummy = 0.0;
    int* iwork = grow(ws.iwork, (size_t)(8 * l));
    scipy_dgesdd_(&jobz, &m, &n, Z.data(), &m, sv.data(), &dummy, &one, &dummy, &one, &wq, &lw, iwork, &info, 1);
    if (info) return fail(info);
    lw = std::max(1, (int)wq);
    double* work = grow(ws.work, (size_t)lw);
    scipy_dgesdd_(&jobz, &m, &n, Z.data(), &m, sv.data(), &dummy, &one, &dummy, &one, work, &lw, iwork, &info, 1);
    if (info) return fail(info);
  }
  for (int64_t j = 0; j < kk; ++j) out[j] = sv[(size_t)j] / scale;
  *frob_sq = ss / scale / scale;
  // 0 ≤ σ_j(A) − σ_j(B) ≤ ‖A − QQᵀA‖_2 ≤ ‖A − QQᵀA‖_F (Weyl; σ_j(B) ≤ σ_j(A) as B = QᵀA).
  *err = std::sqrt(res) / scale;
  return st;
}

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
    // column-major upper (i ≤ j at G[i + j q]) → full symmetric; row-major equals column-major.
    // Two exact divisions by the power-of-two scale (scale² itself may be 0 or Inf).
    for (int64_t j = 0; j < q; ++j)
      for (int64_t a = 0; a <= j; ++a) {
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
    st = run_batch(rest.data(), (int64_t)rest.size(), nthreads, [&](int64_t j, Workspace& ws, int threads) {
      const int64_t i = rest_idx[(size_t)j];
      double* o = out + out_offsets[i];
      if (method == kMethodSvd) return svdvals_svd_one(mats[i], ws, o);
      return svdvals_gram_one(mats[i], eig_driver, ws, o, threads);
    });
    if (st.code) st.index = rest_idx[(size_t)st.index];
  }
  if (small_idx.empty()) return st;
  // the small ones: chunks of kSmallChunk over the workers (no BLAS inside)
  const int64_t nsmall = (int64_t)small_idx.size();
  std::mutex mu;
  parallel_for(nsmall, nthreads, kSmallChunk, [&](int64_t b, int64_t e) {
    interrupt_point();
    Workspace ws;
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
