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

namespace gsa {
namespace math {

// exp(x) for x ≤ 0 (x < −708 and −inf give 0), relative error ≲ 2 ulp. Branch-free
// straight-line code (Cody–Waite reduction, degree-13 Taylor polynomial on |r| ≤ ln2/2, the
// exponent added through the shifter trick) so that a loop over it vectorizes. Only the KS scan of
// the standard rule uses it, where α > 1 makes every argument ≤ 0; its error moves D by < 1e-15.
GSA_HD double esd_exp_nonpos(double x) {
  const double xc = x < -708.0 ? -708.0 : x;
  const double shifter = 6755399441055744.0;  // 0x1.8p52: t − shifter is rint(x·log2 e)
  const double t = xc * 1.4426950408889634 + shifter;
  const double kf = t - shifter;
  double r = xc - kf * 6.93147180369123816490e-01;  // ln2_hi: kf·ln2_hi is exact (|kf| ≤ 1022)
  r = r - kf * 1.90821492927058770002e-10;          // ln2_lo
  double p = 1.0 / 6227020800.0;                     // 1/13!
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
  int64_t tb, sb;
  const double sh = shifter;
  memcpy(&tb, &t, sizeof tb);
  memcpy(&sb, &sh, sizeof sb);
  const int64_t bits = (tb - sb + 1023) << 52;  // 2^kf, kf ∈ [−1022, 0]
  double scale;
  memcpy(&scale, &bits, sizeof scale);
  return x < -708.0 ? 0.0 : p * scale;
}

// One KS term |1 − E − k/n| with E = (x/x_min)^{1−α}, written in WeightWatcher's order.
GSA_HD double esd_ks_term(double e, double k, double n) { return fabs((1.0 - e) - k / n); }

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
