// CPU kernels for exponent charts and residuals (spec §6). Batch-parallel over spectra; each
// worker keeps its own workspace (the nonzero values of one spectrum, divided by the largest,
// sorted descending when the input is not): the batch itself is never copied.
#include "gsa_fast/kernels/charts.hpp"

#include <math.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "gsa_fast/math/charts.hpp"
#include "gsa_fast/parallel.hpp"
#include "gsa_fast/simd.hpp"

namespace gsa {
namespace cpu {

namespace {

namespace mc = gsa::math::charts;

constexpr int kGrid = mc::kBuresGrid;  // Bures chart grid (§6.2b)

// First pass over one spectrum: validation, number of nonzeros, largest value and its position,
// whether the nonzeros are already descending. Returns the position of the first bad value
// (NaN, Inf, negative) or -1.
template <class T>
int64_t scan(const T* x, int64_t len, int64_t* q, double* vmax, int64_t* imax, bool* sorted) {
  int64_t nz = 0, im = -1;
  double mx = 0.0, prev = INFINITY;
  bool srt = true;
  for (int64_t k = 0; k < len; ++k) {
    const double v = (double)x[k];
    if (!(v >= 0.0) || v == INFINITY) return k;  // NaN fails v >= 0
    if (v > 0.0) {
      ++nz;
      if (v > mx) {
        mx = v;
        im = k;
      }
      if (v > prev) srt = false;
      prev = v;
    }
  }
  *q = nz;
  *vmax = mx;
  *imax = im;
  *sorted = srt;
  return -1;
}

// R(P) = Σ_{k≥2} σ_k²/σ_1², summed over every value but the (first) largest: no cancellation.
template <class T>
double radial_ratio(const T* x, int64_t len, double vmax, int64_t imax) {
  // a division, not a product with 1/vmax: for subnormal vmax the reciprocal is Inf
  math::KahanSum acc;
  for (int64_t k = 0; k < len; ++k) {
    if (k == imax) continue;
    const double r = (double)x[k] / vmax;
    acc.add(r * r);
  }
  return acc.value();
}

// Nonzeros of x divided by vmax into ws[0..q), sorted descending.
template <class T>
void gather_sorted(const T* x, int64_t len, double vmax, bool sorted, std::vector<double>& ws) {
  ws.clear();
  for (int64_t k = 0; k < len; ++k) {
    const double v = (double)x[k];
    if (v > 0.0) ws.push_back(v / vmax);
  }
  if (!sorted) std::sort(ws.begin(), ws.end(), std::greater<double>());
}

// The lsq chart's input: nonzeros of x times 2^e (exact; e = mc::lsq_exponent), sorted
// descending: the values of the device's view mc::Shifted. Returns e.
template <class T>
int gather_sorted_lsq(const T* x, int64_t len, double vmax, bool sorted, std::vector<double>& ws) {
  ws.clear();
  double vmin = vmax;
  for (int64_t j = 0; j < len; ++j) {
    const double v = (double)x[j];
    if (v > 0.0) {
      ws.push_back(v);
      vmin = std::min(vmin, v);
    }
  }
  const int e = mc::lsq_exponent(vmax, vmin);
  for (double& v : ws) v = std::ldexp(v, e);
  if (!sorted) std::sort(ws.begin(), ws.end(), std::greater<double>());
  return e;
}

// log k for k = 1..kmax (u[k-1]), shared read-only by the workers.
std::vector<double> log_table(int64_t kmax) {
  std::vector<double> u((size_t)std::max<int64_t>(kmax, 1));
  for (int64_t k = 1; k <= kmax; ++k) u[(size_t)(k - 1)] = ::log((double)k);
  return u;
}

int64_t max_length(const int64_t* lengths, int64_t n) {
  int64_t m = 0;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, lengths[i]);
  return m;
}

// Grid sums of the Bures chart: only the signs of F use them, so they may be vectorized freely
// (4 lanes, AVX2/FMA where the CPU has it, chosen at load time; SSE2 otherwise).
// GCC/Clang vector extensions; function clones only where the toolchain supports ifunc
// (x86-64 Linux/glibc). Elsewhere the same code compiles for the baseline target.
#define GSA_GRID_CLONES GSA_CLONES("avx2,fma")

// One grid step: w *= rho (square = false) or w *= rho² (square = true, the orbit weights
// k^{-2α} with rho = k^{-h}), returning Σ w and Σ w·u.
GSA_GRID_CLONES void grid_step(
    double* __restrict w, const double* __restrict rho, const double* __restrict u, int64_t q,
    bool square, double* S0, double* S1) {
  v4d a0 = {0, 0, 0, 0}, a1 = {0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 4 <= q; k += 4) {
    v4d wv, rv, uv;
    load4(wv, w + k);
    load4(rv, rho + k);
    load4(uv, u + k);
    wv *= square ? rv * rv : rv;
    store4(w + k, wv);
    a0 += wv;
    a1 += wv * uv;
  }
  double s0 = hsum4(a0), s1 = hsum4(a1);
  for (; k < q; ++k) {
    w[k] *= square ? rho[k] * rho[k] : rho[k];
    s0 += w[k];
    s1 += w[k] * u[k];
  }
  *S0 = s0;
  *S1 = s1;
}

GSA_GRID_CLONES void grid_sums(
    const double* __restrict w, const double* __restrict u, int64_t q, double* S0, double* S1) {
  v4d a0 = {0, 0, 0, 0}, a1 = {0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 4 <= q; k += 4) {
    v4d wv, uv;
    load4(wv, w + k);
    load4(uv, u + k);
    a0 += wv;
    a1 += wv * uv;
  }
  double s0 = hsum4(a0), s1 = hsum4(a1);
  for (; k < q; ++k) {
    s0 += w[k];
    s1 += w[k] * u[k];
  }
  *S0 = s0;
  *S1 = s1;
}

// Per-worker state of the Bures chart: E_{p(α_j)}[log k] on the grid of J = [lo, hi] for the
// last width d (it depends on d and J only: a dense batch computes it once per thread).
struct BuresGridCache {
  int64_t d = -1;
  double lo = NAN, hi = NAN;
  double ep[kGrid];
};

// Φ_BW on J = [lo, hi] (§6.2b). Grid values of F = (log f)' from the multiplicative recurrence
// k^{-α_{j+1}} = k^{-α_j}·k^{-h} with tables e0 = k^{-lo}, rho = k^{-h} (no exp per spectrum;
// relative drift ≤ ~256 ulp, ~1e-13 in F: only the signs are used, to bracket), then exact
// Newton refinement of every + → − crossing and comparison of exact f values with the
// endpoints that are local maxima; ties → smallest α.
double bures_chart(const std::vector<double>& s, const double* u, const double* e0,
                   const double* rho, int64_t kmax, int64_t d,
                   double lo, double hi, std::vector<double>& w, BuresGridCache& cache) {
  const int64_t q = (int64_t)s.size();
  if (d < 2 || q < 1) return NAN;  // (bures_pick's answer, without the grid)
  const double h = (hi - lo) / (kGrid - 1);
  if (cache.d != d || cache.lo != lo || cache.hi != hi) {
    if (d <= kmax) {
      // same recurrence on k^{-2α}, k = 1..d (the width varies in a ragged batch)
      w.resize((size_t)d);
      for (int64_t k = 0; k < d; ++k) w[(size_t)k] = e0[k] * e0[k];
      for (int j = 0; j < kGrid; ++j) {
        double H = 0.0, L = 0.0;
        if (j == 0) {
          grid_sums(w.data(), u, d, &H, &L);
        } else {
          grid_step(w.data(), rho, u, d, true, &H, &L);
        }
        cache.ep[j] = L / H;
      }
    } else {  // explicit d beyond the table: Euler–Maclaurin sums (§3.3)
      for (int j = 0; j < kGrid; ++j) {
        const double a = (j == kGrid - 1) ? hi : lo + j * h;
        const math::Sums3 r = math::harmonic_sums(d, 2.0 * a);
        cache.ep[j] = r.l / r.h;
      }
    }
    cache.d = d;
    cache.lo = lo;
    cache.hi = hi;
  }
  w.resize((size_t)q);
  double F[kGrid];
  for (int j = 0; j < kGrid; ++j) {
    double S0 = 0.0, S1 = 0.0;
    if (j == 0) {
      for (int64_t k = 0; k < q; ++k) w[(size_t)k] = s[(size_t)k] * e0[k];
      grid_sums(w.data(), u, q, &S0, &S1);
    } else {
      grid_step(w.data(), rho, u, q, false, &S0, &S1);
    }
    F[j] = cache.ep[j] - S1 / S0;
  }
  return mc::bures_pick(F, s.data(), u, q, d, lo, hi);
}

}  // namespace

template <class T>
void fit_exponent(const T* values, const int64_t* starts, const int64_t* lengths, int64_t n,
                  const int64_t* d, int64_t nd, int chart, double lo, double hi, int64_t k0,
                  int64_t k1, double* alpha, double* intercept, int64_t* qplus, Status* status,
                  int nthreads) {
  FirstFailure fail(status);
  std::vector<double> u, rho, e0;
  if (chart == kChartTop) {
    u = log_table(mc::kLogTableMin);  // the direct range of g_sums
  } else {
    const int64_t kmax = std::max<int64_t>(max_length(lengths, n), mc::kLogTableMin);
    u = log_table(kmax);
    if (chart == kChartBures) {
      const double h = (hi - lo) / (kGrid - 1);
      rho.resize(u.size());
      e0.resize(u.size());
      for (size_t k = 0; k < u.size(); ++k) {
        rho[k] = ::exp(-h * u[k]);
        e0[k] = ::exp(-lo * u[k]);
      }
    }
  }
  const int64_t grain = chart == kChartBures ? 2 : 16;
  struct Work {
    std::vector<double> s, w;
    BuresGridCache cache;
  };
  parallel_for_ws(n, nthreads, grain, [] { return Work{}; }, [&](Work& work, int64_t b, int64_t e) {
    auto& s = work.s;
    auto& w = work.w;
    auto& cache = work.cache;
    for (int64_t i = b; i < e; ++i) {
      const T* x = values + starts[i];
      const int64_t len = lengths[i];
      int64_t q = 0, imax = -1;
      double vmax = 0.0;
      bool sorted = true;
      const int64_t pos = scan(x, len, &q, &vmax, &imax, &sorted);
      if (pos >= 0) fail.report(invalid_value((double)x[pos], i, pos));
      qplus[i] = q;
      alpha[i] = NAN;
      if (intercept) intercept[i] = NAN;
      const int64_t di = nd ? d[i] : q;
      if (pos >= 0 || q < 1 || di < q) continue;
      if (chart == kChartTop) {
        alpha[i] = mc::top_chart(radial_ratio(x, len, vmax, imax), di, lo, hi, u.data());
        continue;
      }
      if (chart == kChartBures) {
        gather_sorted(x, len, vmax, sorted, s);
        alpha[i] = bures_chart(s, u.data(), e0.data(), rho.data(), (int64_t)u.size(), di, lo, hi, w, cache);
      } else {
        const int ex = gather_sorted_lsq(x, len, vmax, sorted, s);
        const mc::LsqFit f = mc::lsq_fit(s.data(), u.data(), q, di, k0, k1, lo, hi, vmax, ex);
        alpha[i] = f.alpha;
        if (intercept) intercept[i] = f.intercept;
      }
    }
  });
}

template <class T>
void chart_residual(const T* values, const int64_t* starts, const int64_t* lengths, int64_t n,
                    const int64_t* d, int64_t nd, const double* alpha, int kind, double* out,
                    int64_t* qplus, Status* status, int nthreads) {
  FirstFailure fail(status);
  std::vector<double> u;
  if (kind != kRadialResidual) u = log_table(max_length(lengths, n));
  struct Work {
    std::vector<double> s, w;
  };
  parallel_for_ws(n, nthreads, 16, [] { return Work{}; }, [&](Work& work, int64_t b, int64_t e) {
    auto& s = work.s;
    auto& w = work.w;
    for (int64_t i = b; i < e; ++i) {
      const T* x = values + starts[i];
      const int64_t len = lengths[i];
      int64_t q = 0, imax = -1;
      double vmax = 0.0;
      bool sorted = true;
      const int64_t pos = scan(x, len, &q, &vmax, &imax, &sorted);
      if (pos >= 0) fail.report(invalid_value((double)x[pos], i, pos));
      qplus[i] = q;
      out[i] = NAN;
      const int64_t di = nd ? d[i] : q;
      if (pos >= 0 || q < 1 || di < q || isnan(alpha[i])) continue;
      if (kind == kRadialResidual) {
        out[i] = mc::radial_residual(radial_ratio(x, len, vmax, imax), di, alpha[i]);
        continue;
      }
      gather_sorted(x, len, vmax, sorted, s);
      if (kind == kChartError) {
        out[i] = mc::chart_error(s.data(), u.data(), q, di, alpha[i], mc::norm2(s.data(), q));
      } else {
        w.resize((size_t)q);
        out[i] = mc::tail_residual(s.data(), u.data(), q, di, alpha[i], w.data());
      }
    }
  });
}

#define GSA_CHARTS_INSTANTIATE(T)                                                              \
  template void fit_exponent<T>(const T*, const int64_t*, const int64_t*, int64_t,             \
                                const int64_t*, int64_t, int, double, double, int64_t, int64_t, \
                                double*, double*, int64_t*, Status*, int);                    \
  template void chart_residual<T>(const T*, const int64_t*, const int64_t*, int64_t,           \
                                  const int64_t*, int64_t, const double*, int, double*,        \
                                  int64_t*, Status*, int);
GSA_CHARTS_INSTANTIATE(float)
GSA_CHARTS_INSTANTIATE(double)
#undef GSA_CHARTS_INSTANTIATE

}  // namespace cpu
}  // namespace gsa
