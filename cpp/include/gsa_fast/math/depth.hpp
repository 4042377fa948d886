// Scalar math for depth spectra and deep-linear-network geometry (depth-math spec §7.3, §8.3,
// §8.5). Header-only, GSA_HD: usable from C++ kernels and CUDA device code. No allocation, no
// exceptions; out-of-domain inputs give NaN.
#pragma once

#include <math.h>

#include <cstdint>

#include "gsa_fast/config.hpp"

namespace gsa {
namespace math {

// log λ_kl of the DLN operator 𝒜_{N,X} (spec §8.3, §8.5) for singular values a, b ≥ 0:
//   λ = (a² − b²)/(a^{2/N} − b^{2/N}),  stable form with M = max, m = min, x = 2 log(M/m):
//   log λ = (2 − 2/N) log M + log(−expm1(−x)) − log(−expm1(−x/N)).
// inv_n = 1/N; inv_n = 0 gives the N → ∞ log-mean Λ = (a² − b²)/(log a² − log b²):
//   log Λ = 2 log M + log(−expm1(−x)/x).
// Ties (x = 0) take the limits log N + (2 − 2/N) log M and 2 log M; zeros give the limits of the
// spec (m = 0: (2 − 2/N) log M, resp. −∞; M = 0: −∞ unless N = 1, where λ ≡ 1).
GSA_HD double log_dln_lambda_logs(double la, double lb, double inv_n) {
  if (isnan(la) || isnan(lb) || !(inv_n >= 0.0) || !(inv_n <= 1.0)) return NAN;
  if (inv_n == 1.0) return 0.0;  // N = 1: λ ≡ 1
  const double lM = la > lb ? la : lb, lm = la > lb ? lb : la;
  if (lM == -INFINITY) return -INFINITY;  // both zero
  if (lM == INFINITY) return NAN;
  if (lm == -INFINITY) return inv_n == 0.0 ? -INFINITY : (2.0 - 2.0 * inv_n) * lM;
  const double x = 2.0 * (lM - lm);
  if (inv_n == 0.0) {
    if (x == 0.0) return 2.0 * lM;
    // −expm1(−x)/x ∈ (0, 1]: exact to a few ulps for every x > 0.
    return 2.0 * lM + ::log(-::expm1(-x) / x);
  }
  if (x == 0.0) return -::log(inv_n) + (2.0 - 2.0 * inv_n) * lM;
  return (2.0 - 2.0 * inv_n) * lM + ::log(-::expm1(-x)) - ::log(-::expm1(-x * inv_n));
}

// The same from the singular values a, b ≥ 0 (NaN for negative or NaN input).
GSA_HD double log_dln_lambda(double a, double b, double inv_n) {
  if (!(a >= 0.0) || !(b >= 0.0)) return NAN;
  return log_dln_lambda_logs(::log(a), ::log(b), inv_n);
}

// a·∂/∂a of ½ log λ(a, b), i.e. a·g_N(a, b), as a function of u = log(a/b) (spec §8.5, derived
// here for finite N too):
//   a·g_N = 1/(−expm1(−2u)) − (1/N)/(−expm1(−2u/N))
// and for N = ∞ (inv_n = 0) a·g = 1/(−expm1(−2u)) − 1/(2u). For |u| < 1e-2 the series
//   ½(1 − 1/N) + (u/6)(1 − N⁻²) − (u³/90)(1 − N⁻⁴) + (u⁵/945)(1 − N⁻⁶)
// (Bernoulli numbers of 1/(1 − e^{−x})) replaces the direct form, which loses log10(1/|u|)
// digits. u = +∞ (b = 0 < a) gives the limit 1 − 1/N (λ(a, 0) = a^{2−2/N}; 1 for N = ∞);
// u = −∞ (a = 0 < b) gives +∞·… — callers handle zeros.
GSA_HD double dln_grad_term(double u, double inv_n) {
  if (isnan(u)) return NAN;
  if (inv_n == 1.0) return 0.0;
  if (fabs(u) < 1e-2) {
    const double n2 = inv_n * inv_n, u2 = u * u;
    return 0.5 * (1.0 - inv_n) + u / 6.0 * (1.0 - n2) - u * u2 / 90.0 * (1.0 - n2 * n2) +
           u * u2 * u2 / 945.0 * (1.0 - n2 * n2 * n2);
  }
  if (u == INFINITY) return 1.0 - inv_n;  // 1/(−expm1(−∞)) − (1/N)/(−expm1(−∞)), not 1
  if (u == -INFINITY) return INFINITY;
  const double first = 1.0 / (-::expm1(-2.0 * u));
  const double second = inv_n == 0.0 ? 1.0 / (2.0 * u) : inv_n / (-::expm1(-2.0 * u * inv_n));
  return first - second;
}

// The compensated pair sum of the log-volume (spec §8.5): Kahan steps with the running error in
// comp (the partial sum is sum − comp); a non-finite partial (a −∞ pair: two zero σ, or a zero σ
// at N = ∞) zeroes comp so that −∞ stays −∞. A plain aggregate (device shared memory).
struct LogVolumeSum {
  double sum, comp;
};

GSA_HD void log_volume_add(LogVolumeSum& a, double term) {
  const double t = term - a.comp;
  const double nv = a.sum + t;
  a.comp = isfinite(nv) ? (nv - a.sum) - t : 0.0;
  a.sum = nv;
}

// The pairs (i, j) with j > i of one row (lg: log σ) added into acc, j ascending: the CPU kernel
// runs i = 0..d−1 in order; the CUDA kernel gives each thread its own i and merges.
GSA_HD void log_volume_pairs(const double* lg, int64_t d, int64_t i, double inv_n, LogVolumeSum& acc) {
  for (int64_t j = i + 1; j < d; ++j) log_volume_add(acc, log_dln_lambda_logs(lg[i], lg[j], inv_n));
}

// a + b for two partial sums (b's sum, then its error −comp).
GSA_HD LogVolumeSum log_volume_merge(LogVolumeSum a, const LogVolumeSum& b) {
  log_volume_add(a, b.sum);
  if (isfinite(a.sum)) log_volume_add(a, -b.comp);
  return a;
}

// ∂S/∂σ_i of the log-volume (spec §8.5): Σ_{j≠i} a·g_N(σ_i, σ_j) / σ_i, Kahan-summed in j order;
// at σ_i = 0 (d ≥ 2) the limit of the exact derivative: +∞ for N ≥ 3 and N = ∞ (a^{2/N−1} → ∞,
// resp. Λ → 0); for N = 2, λ(a, b) = a + b, so ∂/∂a ½ log λ = 1/(2(a + b)): Σ_{j≠i} 1/(2σ_j),
// finite unless another σ_j is zero. N = 1: λ ≡ 1, S ≡ 0, so 0 (also at σ_i = 0, where the sum
// below would be 0/0).
GSA_HD double log_volume_grad(const double* s, const double* lg, int64_t d, int64_t i, double inv_n) {
  if (inv_n == 1.0) return 0.0;
  if (d >= 2 && s[i] == 0.0) {
    if (inv_n != 0.5) return INFINITY;
    double acc = 0.0, cc = 0.0;
    for (int64_t j = 0; j < d; ++j) {
      if (j == i) continue;
      if (s[j] == 0.0) return INFINITY;
      const double t = 0.5 / s[j] - cc;
      const double nv = acc + t;
      cc = isfinite(nv) ? (nv - acc) - t : 0.0;
      acc = nv;
    }
    return acc;
  }
  double acc = 0.0, cc = 0.0;
  for (int64_t j = 0; j < d; ++j) {
    if (j == i) continue;
    const double t = dln_grad_term(lg[i] - lg[j], inv_n) - cc;
    const double nv = acc + t;
    cc = (nv - acc) - t;
    acc = nv;
  }
  return acc / s[i];
}

// Diagonal correlation ρ of the weights |A[:b, :b]| (spec §7.3, centred form), A row-major with
// row stride lda. NaN when the mass is 0, all in one row or column, or b < 2. Clamped to [−1, 1].
GSA_HD double diag_correlation(const double* A, int64_t lda, int64_t b) {
  if (b < 2) return NAN;
  double m = 0.0, mi = 0.0, mj = 0.0;
  for (int64_t i = 0; i < b; ++i)
    for (int64_t j = 0; j < b; ++j) {
      const double w = fabs(A[i * lda + j]);
      m += w;
      mi += w * (double)i;
      mj += w * (double)j;
    }
  if (!(m > 0.0) || isinf(m)) return NAN;
  mi /= m;
  mj /= m;
  double sxy = 0.0, sxx = 0.0, syy = 0.0;
  for (int64_t i = 0; i < b; ++i)
    for (int64_t j = 0; j < b; ++j) {
      const double w = fabs(A[i * lda + j]) / m, x = (double)i - mi, y = (double)j - mj;
      sxy += w * x * y;
      sxx += w * x * x;
      syy += w * y * y;
    }
  if (!(sxx > 0.0) || !(syy > 0.0)) return NAN;
  double r = sxy / ::sqrt(sxx * syy);
  return r > 1.0 ? 1.0 : (r < -1.0 ? -1.0 : r);
}

}  // namespace math
}  // namespace gsa
