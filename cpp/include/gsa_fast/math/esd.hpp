// Per-element math of the ESD power-law fit (WeightWatcher 0.7.7's WWFit, see docs/esd.md).
//
// On the sorted tail x_i ≤ … ≤ x_{N−1} of candidate i (n = N − i values, L = log x):
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

}  // namespace math
}  // namespace gsa
