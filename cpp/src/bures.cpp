// Bures–Wasserstein kernels (spec §5.2): see gsa_fast/kernels/bures.hpp for the contract.
#include "gsa_fast/kernels/bures.hpp"

#include <math.h>

#include <cmath>

#include <algorithm>
#include <atomic>
#include <functional>
#include <optional>
#include <vector>

#include "gsa_fast/linalg/blas_threads.hpp"
#include "gsa_fast/check.hpp"
#include "gsa_fast/linalg/lapack.hpp"
#include "gsa_fast/interrupt.hpp"
#include "gsa_fast/math/bures.hpp"
#include "gsa_fast/parallel.hpp"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define GSA_BURES_AVX2 1
#endif

namespace gsa {
namespace cpu {
namespace {

int64_t batch_offset(int64_t idx, int nb, const int64_t* shape, const int64_t* strides) {
  int64_t off = 0;
  for (int d = nb - 1; d >= 0; --d) {
    const int64_t k = idx % shape[d];
    idx /= shape[d];
    off += k * strides[d];
  }
  return off;
}

int64_t batch_count(int nb, const int64_t* shape) {
  int64_t b = 1;
  for (int d = 0; d < nb; ++d) b *= shape[d];
  return b;
}

struct LoadInfo {
  bool finite = true;
  double absmax = 0.0;
  double ssq = 0.0;  // Σ x² (Frobenius² for the factor route)
};

// W[i*cols + j] = X(i, j) for a rows×cols block at base with byte strides rs, cs: the
// column-major cols×rows matrix Xᵀ (for a symmetric X, X itself). Reads and writes are both
// sequential for a C-contiguous input.
template <class T>
LoadInfo load_t(const char* base, int64_t rs, int64_t cs, int64_t rows, int64_t cols, double* W) {
  LoadInfo li;
  double amax = 0.0, ssq = 0.0;
  bool fin = true;
  for (int64_t i = 0; i < rows; ++i) {
    const char* row = base + i * rs;
    double* w = W + i * cols;
    for (int64_t j = 0; j < cols; ++j) {
      const double v = (double)*reinterpret_cast<const T*>(row + j * cs);
      w[j] = v;
      fin &= (bool)isfinite(v);
      const double av = fabs(v);
      amax = av > amax ? av : amax;
      ssq += v * v;
    }
  }
  li.finite = fin;
  li.absmax = amax;
  li.ssq = ssq;
  return li;
}

LoadInfo load(const Stack& s, int64_t off, int nb, int64_t rows, int64_t cols, double* W) {
  const char* base = static_cast<const char*>(s.data) + off;
  const int64_t rs = s.strides[nb], cs = s.strides[nb + 1];
  return s.f32 ? load_t<float>(base, rs, cs, rows, cols, W)
               : load_t<double>(base, rs, cs, rows, cols, W);
}

// A pair's BuresStatus as the one Status (status.hpp): the operand (0 first, 1 second) goes in
// `position`.
Status pair_status(int64_t i, int8_t code) {
  Status st;
  if (code == kBuresOk) return st;
  st.index = i;
  if (code == kBuresLapack) {
    st.code = kStatusLapack;
    return st;
  }
  const int which = code <= kBuresNeg1 ? 0 : 1, kind = code - 3 * which;
  st.position = which;
  st.code = kind == kBuresNonFinite1 ? kStatusNonFinite
          : kind == kBuresNonSym1    ? kStatusAsymmetric
                                     : kStatusNegative;
  return st;
}

// Runs body(ws, i) for i in [0, B) on the shared per-worker workspace loop (parallel.hpp), with
// a Ctrl-C check between matrix pairs.
template <class Make, class Body>
void for_each_with_workspace(int64_t B, int nthreads, int64_t grain, Make make, Body body) {
  parallel_for_ws(B, nthreads, grain, make, [&](auto& ws, int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      interrupt_point();  // Ctrl-C between matrix pairs (interrupt.hpp)
      body(ws, i);
    }
  });
}

int to_int(int64_t v) {
  require(v >= 0 && v <= 2147483647LL, "bures: dimension too large for 32-bit LAPACK");
  return (int)v;
}

int query_lwork(double w) { return std::max(1, (int)w + 1); }

// ---- route (a) ----------------------------------------------------------------------------

struct GeneralWork {
  int n;
  int lwork_syevd, liwork_syevd, lwork_gesdd;
  std::vector<double> VP, VQ, M, wP, wQ, sv, work;
  std::vector<int> iwork;
  explicit GeneralWork(int n_, int lw_e, int liw_e, int lw_s)
      : n(n_), lwork_syevd(lw_e), liwork_syevd(liw_e), lwork_gesdd(lw_s),
        VP((size_t)n_ * n_), VQ((size_t)n_ * n_), M((size_t)n_ * n_), wP(n_), wQ(n_), sv(n_),
        work((size_t)std::max(lw_e, lw_s)), iwork((size_t)std::max(liw_e, 8 * n_)) {}
};

// Symmetry check, symmetrization (lower triangle), trace, eigendecomposition. Returns a status
// offset (0 ok, 1 non-finite, 2 non-symmetric, 3 indefinite, 7-base LAPACK failure marker -1).
// Matrices with max|X| outside [2^-500, 2^500] are first scaled by an exact even power of two
// (math::scale_exponent, shared with cuda/bures.cu).
int bures_scale_exponent(double absmax, double lo = 0x1p-500, double hi = 0x1p500, bool even = true) {
  return math::scale_exponent(absmax, lo, hi, even);
}

int eig_psd(GeneralWork& ws, double* W, double* w, const LoadInfo& li, double sym_rtol,
            double psd_rtol, double* trace, int* k0, int* scale_exp) {
  const int n = ws.n;
  if (!li.finite) return 1;
  const int e = bures_scale_exponent(li.absmax);
  *scale_exp = e;
  if (e != 0)
    for (size_t t = 0; t < (size_t)n * n; ++t) W[t] = std::ldexp(W[t], e);
  const double absmax = std::ldexp(li.absmax, e);
  double asym = 0.0, tr = 0.0;
  for (int j = 0; j < n; ++j) {
    tr += W[j + (size_t)j * n];
    for (int i = j + 1; i < n; ++i) {
      const double lo = W[i + (size_t)j * n], up = W[j + (size_t)i * n];
      asym = std::max(asym, fabs(lo - up));
      W[i + (size_t)j * n] = 0.5 * (lo + up);
    }
  }
  if (asym > sym_rtol * absmax) return 2;
  *trace = tr;
  int info = 0;
  const char jobz = 'V', uplo = 'L';
  scipy_dsyevd_(&jobz, &uplo, &n, W, &n, w, ws.work.data(), &ws.lwork_syevd, ws.iwork.data(),
                &ws.liwork_syevd, &info, 1, 1);
  if (info != 0) return -1;
  // Eigenvalues ascending. Reject clearly negative ones, clip the rest at 0.
  const double lam_abs = n ? std::max(fabs(w[0]), fabs(w[n - 1])) : 0.0;
  if (n && w[0] < -psd_rtol * lam_abs) return 3;
  int k = 0;
  while (k < n && !(w[k] > 0.0)) ++k;
  for (int i = k; i < n; ++i) w[i] = ::sqrt(w[i]);
  *k0 = k;
  return 0;
}

}  // namespace

void bures_general(Stack P, Stack Q, int nb, const int64_t* batch_shape, int64_t n64,
                   double sym_rtol_p, double psd_rtol_p, double sym_rtol_q, double psd_rtol_q,
                   double* out_dist, double* out_fid, Status* status, int nthreads) {
  FirstFailure fail(status);
  const int64_t B = batch_count(nb, batch_shape);
  if (B == 0) return;
  const int n = to_int(n64);
  if (n == 0) {
    for (int64_t i = 0; i < B; ++i) {
      if (out_dist) out_dist[i] = 0.0;
      if (out_fid) out_fid[i] = 0.0;
    }
    return;
  }
  to_int(n64 * n64);
  // Optimal workspace sizes, queried once for the largest problems of the batch.
  int lw_e, liw_e, lw_s;
  {
    double wq = 0.0, dummy = 0.0;
    int iq = 0, info = 0, m1 = -1;
    const char V = 'V', L = 'L', N = 'N';
    scipy_dsyevd_(&V, &L, &n, &dummy, &n, &dummy, &wq, &m1, &iq, &m1, &info, 1, 1);
    lw_e = query_lwork(wq);
    liw_e = std::max(1, iq);
    int one = 1;
    scipy_dgesdd_(&N, &n, &n, &dummy, &n, &dummy, &dummy, &one, &dummy, &one, &wq, &m1, &iq,
                  &info, 1);
    lw_s = query_lwork(wq);
  }
  // An operand broadcast from a single matrix (all batch strides 0, e.g. (1, n, n) against
  // (B, n, n)) is decomposed once, up front (threaded BLAS), and shared read-only by the workers.
  struct Decomp {
    std::vector<double> V, s;
    double tr = 0.0;
    int k0 = 0, st = 0, e = 0;
    bool on = false;
  };
  auto decompose_once = [&](const Stack& X, double sym, double psd, Decomp& d) {
    bool all0 = B > 1;
    for (int k = 0; k < nb && all0; ++k) all0 = X.strides[k] == 0;
    if (!all0) return;
    GeneralWork ws(n, lw_e, liw_e, lw_s);
    d.V.resize((size_t)n * n);
    d.s.resize((size_t)n);
    const LoadInfo li = load(X, 0, nb, n, n, d.V.data());
    d.st = eig_psd(ws, d.V.data(), d.s.data(), li, sym, psd, &d.tr, &d.k0, &d.e);
    d.on = true;
  };
  Decomp dP, dQ;
  decompose_once(P, sym_rtol_p, psd_rtol_p, dP);
  decompose_once(Q, sym_rtol_q, psd_rtol_q, dQ);

  std::optional<BlasThreadsGuard> guard;
  if (B > 1) guard.emplace(1);
  const int T = nthreads > 0 ? nthreads : default_num_threads();
  const int64_t grain = std::max<int64_t>(1, std::min<int64_t>(8, B / (8 * (int64_t)T)));

  auto make = [&] { return GeneralWork(n, lw_e, liw_e, lw_s); };
  for_each_with_workspace(B, nthreads, grain, make, [&](GeneralWork& ws, int64_t b) {
    double trP = 0, trQ = 0;
    int k0P = 0, k0Q = 0, eP = 0, eQ = 0;  // eP, eQ: P and Q were scaled by 2^eP, 2^eQ
    const double *VP = ws.VP.data(), *VQ = ws.VQ.data(), *sPall = ws.wP.data(), *sQall = ws.wQ.data();
    int8_t st = kBuresOk;
    int r;
    if (dP.on) {
      r = dP.st, trP = dP.tr, k0P = dP.k0, eP = dP.e, VP = dP.V.data(), sPall = dP.s.data();
    } else {
      const LoadInfo lp = load(P, batch_offset(b, nb, batch_shape, P.strides), nb, n, n, ws.VP.data());
      r = eig_psd(ws, ws.VP.data(), ws.wP.data(), lp, sym_rtol_p, psd_rtol_p, &trP, &k0P, &eP);
    }
    if (r != 0) st = r < 0 ? (int8_t)kBuresLapack : (int8_t)r;
    if (st == kBuresOk) {
      if (dQ.on) {
        r = dQ.st, trQ = dQ.tr, k0Q = dQ.k0, eQ = dQ.e, VQ = dQ.V.data(), sQall = dQ.s.data();
      } else {
        const LoadInfo lq = load(Q, batch_offset(b, nb, batch_shape, Q.strides), nb, n, n, ws.VQ.data());
        r = eig_psd(ws, ws.VQ.data(), ws.wQ.data(), lq, sym_rtol_q, psd_rtol_q, &trQ, &k0Q, &eQ);
      }
      if (r != 0) st = r < 0 ? (int8_t)kBuresLapack : (int8_t)(r + 3);
    }
    double F = NAN;
    if (st == kBuresOk) {
      const int rP = n - k0P, rQ = n - k0Q;
      F = 0.0;
      if (rP > 0 && rQ > 0) {
        // M = V_P[:, k0P:]ᵀ V_Q[:, k0Q:], then scale rows by √λ_P and columns by √λ_Q.
        const double one = 1.0, zero = 0.0;
        const char Tc = 'T', Nc = 'N';
        double* M = ws.M.data();
        scipy_dgemm_(&Tc, &Nc, &rP, &rQ, &n, &one, VP + (size_t)k0P * n, &n,
                     VQ + (size_t)k0Q * n, &n, &zero, M, &rP, 1, 1);
        const double* sP = sPall + k0P;
        const double* sQ = sQall + k0Q;
        for (int j = 0; j < rQ; ++j)
          for (int i = 0; i < rP; ++i) M[i + (size_t)j * rP] *= sP[i] * sQ[j];
        int info = 0, ione = 1;
        double dummy = 0.0;
        scipy_dgesdd_(&Nc, &rP, &rQ, M, &rP, ws.sv.data(), &dummy, &ione, &dummy, &ione,
                      ws.work.data(), &ws.lwork_gesdd, ws.iwork.data(), &info, 1);
        if (info != 0) {
          st = kBuresLapack;
          F = NAN;
        } else {
          const int k = std::min(rP, rQ);
          for (int i = k - 1; i >= 0; --i) F += ws.sv[i];  // small to large
        }
      }
    }
    fail.report(pair_status(b, st));
    // F carries 2^((eP+eQ)/2), trP 2^eP, trQ 2^eQ: combined as cuda/bures.cu does (math/bures.hpp)
    if (out_fid) out_fid[b] = st == kBuresOk ? math::unscaled_fidelity(F, eP, eQ) : NAN;
    if (out_dist) out_dist[b] = st == kBuresOk ? math::scaled_distance(trP, eP, trQ, eQ, F) : NAN;
  });
}

// ---- route (b) ----------------------------------------------------------------------------

}  // namespace cpu
}  // namespace gsa

extern "C" void scipy_dgelqf_(const int* m, const int* n, double* a, const int* lda, double* tau,
                              double* work, const int* lwork, int* info);

namespace gsa {
namespace cpu {
namespace {

// Xt holds Xᵀ (n×r column-major, ld n) for a factor X with r rows. When r > n, replace it by the
// n×n triangular factor of X = Q R (computed as the LQ factorization Xᵀ = L Qᵀ, L = Rᵀ): the
// singular values of B Xᵀ are those of B Rᵀ, so the SVD shrinks from r-sized to n-sized.
// Returns the new row count, or -1 on LAPACK failure.
int reduce_rows(double* Xt, int n, int r, double* tau, double* work, int lwork) {
  if (r <= n) return r;
  int info = 0;
  scipy_dgelqf_(&n, &r, Xt, &n, tau, work, &lwork, &info);
  if (info != 0) return -1;
  for (int j = 1; j < n; ++j)
    for (int i = 0; i < j; ++i) Xt[i + (size_t)j * n] = 0.0;  // keep L (lower), drop the reflectors
  return n;
}

struct FactorWork {
  std::vector<double> At, Bt, C, sv, tau, work;
  std::vector<int> iwork;
};

}  // namespace

void bures_factors(Stack A, int64_t a_rows, Stack Bs, int64_t b_rows, int nb,
                   const int64_t* batch_shape, int64_t n64, double* out_dist, Status* status,
                   int nthreads) {
  FirstFailure fail(status);
  const int64_t Bn = batch_count(nb, batch_shape);
  if (Bn == 0) return;
  const int n = to_int(n64), a = to_int(a_rows), b = to_int(b_rows);
  to_int(n64 * std::max(a_rows, b_rows));
  const bool svd = n > 0 && a > 0 && b > 0;
  const int ae = std::min(a, n), be = std::min(b, n);  // row counts after the LQ reduction
  to_int((int64_t)ae * be);
  const int k = std::min(ae, be);
  int lw = 1;
  if (svd) {
    double wq = 0.0, dummy = 0.0;
    int iq = 0, info = 0, m1 = -1, one = 1;
    const char N = 'N';
    scipy_dgesdd_(&N, &be, &ae, &dummy, &be, &dummy, &dummy, &one, &dummy, &one, &wq, &m1, &iq,
                  &info, 1);
    lw = query_lwork(wq);
    for (int r : {a, b})
      if (r > n) {
        scipy_dgelqf_(&n, &r, &dummy, &n, &dummy, &wq, &m1, &info);
        lw = std::max(lw, query_lwork(wq));
      }
  }
  std::optional<BlasThreadsGuard> guard;
  if (Bn > 1 && svd) guard.emplace(1);
  const int T = nthreads > 0 ? nthreads : default_num_threads();
  const int64_t grain = std::max<int64_t>(1, std::min<int64_t>(8, Bn / (8 * (int64_t)T)));

  auto make = [&] {
    FactorWork w;
    w.At.resize((size_t)n * a);
    w.Bt.resize((size_t)n * b);
    if (svd) {
      w.C.resize((size_t)ae * be);
      w.sv.resize((size_t)k);
      w.tau.resize((size_t)n);
      w.work.resize((size_t)lw);
      w.iwork.resize((size_t)8 * k);
    }
    return w;
  };
  for_each_with_workspace(Bn, nthreads, grain, make, [&](FactorWork& w, int64_t i) {
    const LoadInfo la = load(A, batch_offset(i, nb, batch_shape, A.strides), nb, a, n, w.At.data());
    int8_t st = la.finite ? (int8_t)kBuresOk : (int8_t)kBuresNonFinite1;
    LoadInfo lb;
    if (st == kBuresOk) {
      lb = load(Bs, batch_offset(i, nb, batch_shape, Bs.strides), nb, b, n, w.Bt.data());
      if (!lb.finite) st = kBuresNonFinite2;
    }
    // Factors whose squares leave the normal range (entries outside [2^-250, 2^250]): both scaled
    // by one exact 2^e (d(cA, cB) = c·d(A, B)); ‖A‖², ‖B‖² then recomputed from the scaled ones.
    int e = 0;
    double ssa = la.ssq, ssb = lb.ssq;
    if (st == kBuresOk && (e = bures_scale_exponent(std::max(la.absmax, lb.absmax), 0x1p-250, 0x1p250, false))) {
      ssa = ssb = 0.0;
      for (size_t t = 0; t < (size_t)n * a; ++t) {
        const double v = std::ldexp(w.At[t], e);
        w.At[t] = v;
        ssa += v * v;
      }
      for (size_t t = 0; t < (size_t)n * b; ++t) {
        const double v = std::ldexp(w.Bt[t], e);
        w.Bt[t] = v;
        ssb += v * v;
      }
    }
    double nuc = 0.0;
    if (st == kBuresOk && svd) {
      const int ra = reduce_rows(w.At.data(), n, a, w.tau.data(), w.work.data(), lw);
      const int rb = reduce_rows(w.Bt.data(), n, b, w.tau.data(), w.work.data(), lw);
      if (ra < 0 || rb < 0) {
        st = kBuresLapack;
      } else {
        // C = B Aᵀ (rb×ra) = Btᵀ At with At = Aᵀ (n×ra) and Bt = Bᵀ (n×rb) column-major.
        const double one = 1.0, zero = 0.0;
        const char Tc = 'T', Nc = 'N';
        scipy_dgemm_(&Tc, &Nc, &rb, &ra, &n, &one, w.Bt.data(), &n, w.At.data(), &n, &zero,
                     w.C.data(), &rb, 1, 1);
        int info = 0, ione = 1;
        double dummy = 0.0;
        scipy_dgesdd_(&Nc, &rb, &ra, w.C.data(), &rb, w.sv.data(), &dummy, &ione, &dummy, &ione,
                      w.work.data(), &lw, w.iwork.data(), &info, 1);
        if (info != 0) st = kBuresLapack;
        for (int j = std::min(ra, rb) - 1; j >= 0; --j) nuc += w.sv[j];  // small to large
      }
    }
    fail.report(pair_status(i, st));
    // ‖A‖², ‖B‖² and ‖BAᵀ‖_* all carry 2^(2e): the general route's combination (math/bures.hpp)
    out_dist[i] = st == kBuresOk ? math::scaled_distance(ssa, 2 * e, ssb, 2 * e, nuc) : NAN;
  });
}

// ---- routes (c), (d) --------------------------------------------------------------------------

namespace {

template <class T>
int load_vec_t(const char* base, int64_t s, int64_t n, double neg_rtol, double* w) {
  double amax = 0.0, mn = 0.0;
  bool fin = true;
  for (int64_t k = 0; k < n; ++k) {
    const double v = (double)*reinterpret_cast<const T*>(base + k * s);
    fin &= (bool)isfinite(v);
    amax = std::max(amax, fabs(v));
    mn = std::min(mn, v);
    w[k] = v;
  }
  if (!fin) return 1;
  if (mn < -neg_rtol * amax) return 3;
  for (int64_t k = 0; k < n; ++k) w[k] = w[k] > 0.0 ? w[k] : 0.0;
  return 0;
}

int load_vec(const Stack& st, int64_t off, int nb, int64_t n, double neg_rtol, double* w) {
  const char* base = static_cast<const char*>(st.data) + off;
  const int64_t s = st.strides[nb];
  return st.f32 ? load_vec_t<float>(base, s, n, neg_rtol, w)
                : load_vec_t<double>(base, s, n, neg_rtol, w);
}

// Eigenvalue vectors usually arrive sorted (eigh: ascending, svd: descending): detect those in
// one pass and sort only the rest.
void sort_descending(std::vector<double>& w) {
  const size_t n = w.size();
  bool desc = true, asc = true;
  for (size_t k = 1; k < n && (desc || asc); ++k) {
    desc &= w[k - 1] >= w[k];
    asc &= w[k - 1] <= w[k];
  }
  if (desc) return;
  if (asc) {
    std::reverse(w.begin(), w.end());
    return;
  }
  std::sort(w.begin(), w.end(), std::greater<double>());
}

#if GSA_BURES_AVX2
// Route (c) for one pair of contiguous float64 rows, in one 4-lane sweep: the checks of
// load_vec_t (finite, max|·|, min) for both rows and Σ t² with t = sqrt_diff(max(a,0), max(b,0))
// = (a − b)/(√a + √b) (0 where both are 0), as math::bures_diag computes it term by term; the
// four lanes are added at the end (a different summation order: a few ulps, as documented).
// Returns false when the caller must take the general path: a non-finite entry, a negative one
// (clipped or rejected there), or a sum that may have overflowed or underflowed (the scaled
// pass). Entries of a row are read once; nothing is copied.
// One 4-lane term t (and the checks, or-ed into bad).
__attribute__((target("avx2"))) inline __m256d diag_term_avx2(__m256d va, __m256d vb,
                                                              __m256d& bad) {
  const __m256d zero = _mm256_setzero_pd();
  // v − v is 0 for finite v and NaN for ±Inf/NaN; v < 0 flags negatives: both go to `bad`.
  bad = _mm256_or_pd(bad, _mm256_cmp_pd(_mm256_sub_pd(va, va), zero, _CMP_NEQ_UQ));
  bad = _mm256_or_pd(bad, _mm256_cmp_pd(_mm256_sub_pd(vb, vb), zero, _CMP_NEQ_UQ));
  bad = _mm256_or_pd(bad, _mm256_cmp_pd(_mm256_min_pd(va, vb), zero, _CMP_LT_OQ));
  const __m256d s = _mm256_add_pd(_mm256_sqrt_pd(va), _mm256_sqrt_pd(vb));
  const __m256d t = _mm256_div_pd(_mm256_sub_pd(va, vb), s);
  // s = 0 (both entries 0): 0/0 = NaN → 0.
  return _mm256_and_pd(t, _mm256_cmp_pd(s, zero, _CMP_NEQ_OQ));
}

__attribute__((target("avx2"))) bool diag_row_avx2(const double* a, const double* b, int64_t n,
                                                   double* out) {
  const __m256d zero = _mm256_setzero_pd();
  __m256d acc0 = zero, acc1 = zero, bad = zero, nzm = zero;
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m256d t0 = diag_term_avx2(_mm256_loadu_pd(a + k), _mm256_loadu_pd(b + k), bad);
    const __m256d t1 = diag_term_avx2(_mm256_loadu_pd(a + k + 4), _mm256_loadu_pd(b + k + 4), bad);
    acc0 = _mm256_add_pd(acc0, _mm256_mul_pd(t0, t0));
    acc1 = _mm256_add_pd(acc1, _mm256_mul_pd(t1, t1));
    nzm = _mm256_or_pd(nzm, _mm256_cmp_pd(_mm256_or_pd(t0, t1), zero, _CMP_NEQ_UQ));
  }
  if (_mm256_movemask_pd(bad)) return false;
  bool nz = _mm256_movemask_pd(nzm) != 0;
  alignas(32) double l0[4], l1[4];
  _mm256_store_pd(l0, acc0);
  _mm256_store_pd(l1, acc1);
  double sum = ((l0[0] + l1[0]) + (l0[1] + l1[1])) + ((l0[2] + l1[2]) + (l0[3] + l1[3]));
  for (; k < n; ++k) {
    const double x = a[k], y = b[k];
    if (!(x >= 0.0) || !(y >= 0.0) || !isfinite(x) || !isfinite(y)) return false;
    const double t = math::sqrt_diff(x, y);
    sum += t * t;
    nz |= (t != 0.0);
  }
  if (!math::plain_ssq_ok(sum, nz)) return false;
  *out = ::sqrt(sum);
  return true;
}

const bool kBuresHaveAvx2 = __builtin_cpu_supports("avx2");
#endif

}  // namespace

void bures_diag(Stack a, Stack b, int nb, const int64_t* batch_shape, int64_t n, bool sort_desc,
                double neg_rtol_a, double neg_rtol_b, double* out, Status* status,
                int nthreads) {
  FirstFailure fail(status);
  const int64_t B = batch_count(nb, batch_shape);
  if (B == 0) return;
  const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, n));
  struct VecWork {
    std::vector<double> wa, wb;
  };
  auto make = [&] { return VecWork{std::vector<double>((size_t)n), std::vector<double>((size_t)n)}; };
  // Contiguous float64 rows with nothing to sort: one vector sweep per pair (no copy), the
  // general path below only for rows it hands back (bad entries, clipping, scaling).
  const bool direct = !sort_desc && !a.f32 && !b.f32 && a.strides[nb] == 8 && b.strides[nb] == 8;
  for_each_with_workspace(B, nthreads, grain, make, [&](VecWork& w, int64_t i) {
    std::vector<double>& wa = w.wa;
    std::vector<double>& wb = w.wb;
#if GSA_BURES_AVX2
    if (direct && kBuresHaveAvx2) {
      const double* pa = reinterpret_cast<const double*>(static_cast<const char*>(a.data) +
                                                         batch_offset(i, nb, batch_shape, a.strides));
      const double* pb = reinterpret_cast<const double*>(static_cast<const char*>(b.data) +
                                                         batch_offset(i, nb, batch_shape, b.strides));
      if (diag_row_avx2(pa, pb, n, &out[i])) return;
    }
#else
    (void)direct;
#endif
    {
      int r = load_vec(a, batch_offset(i, nb, batch_shape, a.strides), nb, n, neg_rtol_a, wa.data());
      int8_t st = (int8_t)r;
      if (st == kBuresOk) {
        r = load_vec(b, batch_offset(i, nb, batch_shape, b.strides), nb, n, neg_rtol_b, wb.data());
        st = r ? (int8_t)(r + 3) : (int8_t)kBuresOk;
      }
      if (st == kBuresOk && sort_desc) {
        sort_descending(wa);
        sort_descending(wb);
      }
      fail.report(pair_status(i, st));
      out[i] = st == kBuresOk ? math::bures_diag<double>(wa.data(), 1, wb.data(), 1, n) : NAN;
    }
  });
}

}  // namespace cpu
}  // namespace gsa
