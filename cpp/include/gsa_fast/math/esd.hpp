// Per-element math of the ESD power-law fit (WeightWatcher 0.7.7's WWFit, see docs/esd.md).
//
// On the sorted tail x_i ≤ … ≤ x_{N−1} of candidate i (n = N − i values, L = log(x/x_0), see
// esd_log_rel):
//   s_i   = Σ_{k≥i} (L_k − L_i)                      (from double-double suffix sums of L)
//   α_i   = 1 + n / s_i            (standard rule, N ≥ 20)
//   α_i   = 1 + (n − 1) / s_i      (small-N rule, N < 20)
//   D_i   = max_{k<n} |1 − (x_{i+k}/x_i)^{1−α_i} − k/n|,  (x/x_i)^{1−α} = exp((1−α)(L − L_i))
//
// Header-only, GSA_HD; no exceptions, no allocation.
#pragma once

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "gsa_fast/config.hpp"

// The vector instantiations must inline into their (AVX2-cloned) caller: a call would pass 32-byte
// vectors through the non-AVX calling convention.
#if defined(__GNUC__) && !defined(__CUDACC__)
#define GSA_ESD_INLINE __attribute__((always_inline))
#pragma GCC diagnostic ignored "-Wpsabi"  // always inlined: no vector crosses a call boundary
#else
#define GSA_ESD_INLINE
#endif

namespace gsa {
namespace math {

// exp(x) for x ≤ 0 (x < −708 and −inf give 0), relative error ≲ 2 ulp. Branch-free
// straight-line code (Cody–Waite reduction, degree-13 Taylor polynomial on |r| ≤ ln2/2, the
// exponent added through the shifter trick) written once for T = double and for a GCC vector of
// doubles (I the matching 64-bit integer type), so the KS loop runs it 4 lanes at a time. Only the
// KS scan of the standard rule uses it, where α > 1 makes every argument ≤ 0; its error moves D
// by < 1e-15.
template <class T, class I>
GSA_ESD_INLINE GSA_HD T esd_exp_nonpos_t(const T& x) {
  const T zero = T{};
  const T lo = zero - 708.0;
  const T xc = x < lo ? lo : x;
  const double shifter = 6755399441055744.0;  // 0x1.8p52: t − shifter is rint(x·log2 e)
  const T t = xc * 1.4426950408889634 + shifter;
  const T kf = t - shifter;
  T r = xc - kf * 6.93147180369123816490e-01;  // ln2_hi: kf·ln2_hi is exact (|kf| ≤ 1022)
  r = r - kf * 1.90821492927058770002e-10;     // ln2_lo
  T p = zero + 1.0 / 6227020800.0;             // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  I tb;
  int64_t sb;
  memcpy(&tb, &t, sizeof tb);
  memcpy(&sb, &shifter, sizeof sb);
  const I bits = (tb - sb + 1023) << 52;  // 2^kf, kf ∈ [−1022, 0]
  T scale;
  memcpy(&scale, &bits, sizeof scale);
  return x < lo ? zero : p * scale;
}

GSA_HD double esd_exp_nonpos(double x) { return esd_exp_nonpos_t<double, int64_t>(x); }

// One KS term |1 − E − k/n| with E = (x/x_min)^{1−α}, written in WeightWatcher's order.
template <class T>
GSA_ESD_INLINE GSA_HD T esd_ks_term_t(const T& e, const T& k, double n) {
  const T v = (1.0 - e) - k / n;
  return v < 0.0 ? -v : v;
}

GSA_HD double esd_ks_term(double e, double k, double n) { return esd_ks_term_t<double>(e, k, n); }

// α of a tail of n values with log-sum s = Σ log(x/x_min): 1 + m/s, m = n (standard) or n − 1
// (small-N rule). s = 0 gives +inf as numpy does.
GSA_HD double esd_alpha(double m, double s) { return 1.0 + m / s; }

// σ = (α − 1)/√n.
GSA_HD double esd_sigma(double alpha, double n) { return (alpha - 1.0) / sqrt(n); }

// Error-free a + b = s + e (Knuth TwoSum), for the double-double suffix sums of log x.
GSA_HD void esd_two_sum(double a, double b, double& s, double& e) {
  s = a + b;
  const double bb = s - a;
  e = (a - (s - bb)) + (b - bb);
}

// ---- the per-spectrum steps shared by cpp/src/esd.cpp and cuda/esd.cu ----------------------------

// Per-spectrum status codes: the values of cpu::EsdStatus (kernels/esd.hpp; static_assert there).
enum EsdCode : int { kEsdOk = 0, kEsdTooFew = 1, kEsdAllEqual = 2, kEsdClipTooLarge = 3,
                     kEsdNonFinite = 4, kEsdNegative = 5 };
constexpr int64_t kEsdSmallN = 20;        // WeightWatcher's SMALL_N_CUTOFF
constexpr int64_t kEsdSmallMinTail = 8;   // fit_powerlaw_smallN's k_min

// First index k in [0, n) with a[k] > v (std::upper_bound), a sorted ascending.
GSA_HD int64_t esd_upper_bound(const double* a, int64_t n, double v) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (v < a[mid]) hi = mid; else lo = mid + 1;
  }
  return lo;
}

// First index k in [0, n) with a[k] >= v (std::lower_bound), a sorted ascending.
GSA_HD int64_t esd_lower_bound(const double* a, int64_t n, double v) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (a[mid] < v) lo = mid + 1; else hi = mid;
  }
  return lo;
}

// WeightWatcher's find_limit: the first index in [lo, n) whose value is nearest to target
// (+inf: xmax="force", the largest value a[n − 1]).
GSA_HD int64_t esd_nearest(const double* a, int64_t lo, int64_t n, double target) {
  if (isinf(target)) target = a[n - 1];
  int64_t best = lo;
  double bd = fabs(a[lo] - target);
  for (int64_t k = lo + 1; k < n; ++k) {
    const double d = fabs(a[k] - target);
    if (d < bd) {
      bd = d;
      best = k;
    }
  }
  return best;
}

// The fitted range of a spectrum sorted ascending, all[0 .. len): drop the clip_top largest
// (more than half: kEsdClipTooLarge), keep values > thresh (apply_thresh), then start/end at the
// values nearest to xmin_req / xmax_req (NaN: not given). The fit sees all[i_min .. i_min + N);
// status kEsdTooFew for N < 2 or a nonpositive first value, kEsdAllEqual when all N are equal.
struct EsdRange {
  int64_t nall, i_min, N;
  int status;
};

GSA_HD EsdRange esd_range(const double* all, int64_t len, int64_t clip_top, bool apply_thresh,
                          double thresh, double xmin_req, double xmax_req) {
  EsdRange r{len, 0, 0, kEsdOk};
  if (clip_top > 0) {
    if ((double)clip_top > (double)len / 2.0) {
      r.status = kEsdClipTooLarge;
      return r;
    }
    r.nall = len - clip_top;
  }
  const int64_t nall = r.nall;
  const int64_t lo = apply_thresh ? esd_upper_bound(all, nall, thresh) : 0;
  int64_t i_min = lo, i_max = nall - 1;
  if (lo < nall) {
    if (!isnan(xmin_req)) i_min = esd_nearest(all, lo, nall, xmin_req);
    if (!isnan(xmax_req)) i_max = esd_nearest(all, lo, nall, xmax_req);
  }
  r.i_min = i_min;
  r.N = i_max - i_min + 1 > 0 ? i_max - i_min + 1 : 0;
  if (r.N < 2) {
    r.status = kEsdTooFew;
    return r;
  }
  const double x0 = all[i_min], x1 = all[i_min + r.N - 1];
  // all equal, or a zero/negative value inside the fitted range (only reachable with x_min
  // given, where WeightWatcher skips the threshold): log is undefined, no fit.
  if (x0 == x1 || !(x0 > 0.0)) r.status = x0 == x1 ? kEsdAllEqual : kEsdTooFew;
  return r;
}

// The logs the fit works on, L_k = log(x_k / x_0) for the sorted fitted data x_0 ≤ … ≤ x_{N−1}
// (x_0 > 0): only differences L_k − L_i enter α and D, and taking them relative to x_0 keeps their
// error at ≲ u + 2u·|L_k|, independent of the scale of x (log x_k itself carries 2u·|log x_k|,
// ~1e-13 absolute at x ~ 1e±300, which cost α ~1000 ulp there). When the data span more than the
// float64 range (x_{N−1}/x_0 overflows) the plain log x_k − log x_0 is used for the whole spectrum.
GSA_HD bool esd_log_ratio_ok(const double* x, int64_t N) { return isfinite(x[N - 1] / x[0]); }

GSA_HD double esd_log_rel(double xk, double x0, bool ratio_ok) {
  return ratio_ok ? log(xk / x0) : log(xk) - log(x0);
}

// Double-double suffix sums of L[0 .. N): Σ_{k≥i} L_k = shi[i] + slo[i] (shi[N] = slo[N] = 0),
// accumulated from the end (one fixed order: α bit-identical wherever it runs).
GSA_HD void esd_suffix_sums(const double* L, int64_t N, double* shi, double* slo) {
  shi[N] = slo[N] = 0.0;
  for (int64_t k = N - 1; k >= 0; --k) {
    double s, e;
    esd_two_sum(shi[k + 1], L[k], s, e);
    shi[k] = s;
    slo[k] = slo[k + 1] + e;
  }
}

// Σ_{k≥i} (L_k − L_i) from the suffix sums: (shi − n·L_i) + (slo − err(n·L_i)).
GSA_HD double esd_log_excess(const double* L, const double* shi, const double* slo, int64_t i,
                             int64_t N) {
  const double n = (double)(N - i), t = n * L[i];
  const double e = fma(n, L[i], -t);
  return (shi[i] - t) + (slo[i] - e);
}

// Exact KS distance of tail L[0 .. n) for any α (scalar libm exp; the small-N rule and α = ∞).
GSA_HD double esd_ks_exact(const double* L, int64_t n, double alpha) {
  const double c = 1.0 - alpha, Li = L[0], nd = (double)n;
  double m = 0.0;
  for (int64_t k = 0; k < n; ++k) {
    double e;
    if (isinf(c)) {
      e = L[k] == Li ? 1.0 : (c < 0 ? 0.0 : INFINITY);
    } else {
      e = exp(c * (L[k] - Li));
    }
    const double v = esd_ks_term(e, (double)k, nd);
    m = v > m ? v : m;
  }
  return m;
}

// The winning candidate of a fit: index, α, D, σ.
struct EsdWin {
  int64_t i;
  double alpha, D, sigma;
};

// Small-N rule (N < kEsdSmallN; fit_powerlaw_smallN): α = 1 + (n−1)/s for tails of ≥ 8 values
// with s > 1e-12, D only where that α > 1 (else D stays 1, α stays 0 where it was never set). Its
// objective D − 0.868/√n only matters when no candidate qualifies (then the whole data is
// refitted into slot 0); WWFit.__init__ then picks the first minimum of D over all slots, as in
// the standard rule. σ uses the α of each slot as it was before that fallback.
GSA_HD EsdWin esd_fit_small(const double* L, const double* shi, const double* slo, int64_t N) {
  double al[kEsdSmallN], al_sigma[kEsdSmallN], Ds[kEsdSmallN];
  al[0] = al_sigma[0] = 0.0;  // slot 0 defined even without candidates (N = 1: callers refuse it
  Ds[0] = 1.0;                // first, but the result must not read uninitialized memory)
  const int64_t nc = N - 1;
  bool any = false;
  for (int64_t i = 0; i < nc; ++i) {
    al[i] = 0.0;
    Ds[i] = 1.0;
    const int64_t n = N - i;
    if (n < kEsdSmallMinTail) continue;
    const double s = esd_log_excess(L, shi, slo, i, N);
    if (s <= 1e-12) continue;
    al[i] = esd_alpha((double)(n - 1), s);
    if (al[i] <= 1.0) continue;
    Ds[i] = esd_ks_exact(L + i, n, al[i]);
    any = true;
  }
  for (int64_t i = 0; i < nc; ++i) al_sigma[i] = al[i];
  if (!any && nc > 0) {
    const double s = esd_log_excess(L, shi, slo, 0, N);
    if (s > 1e-12) {
      al[0] = esd_alpha((double)(N - 1), s);
      Ds[0] = esd_ks_exact(L, N, al[0]);
    }
  }
  int64_t win = 0;
  for (int64_t i = 1; i < nc; ++i)
    if (Ds[i] < Ds[win]) win = i;
  return EsdWin{win, al[win], Ds[win], esd_sigma(al_sigma[win], (double)(N - win))};
}

}  // namespace math
}  // namespace gsa
