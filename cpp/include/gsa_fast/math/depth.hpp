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
// digits. u = +∞ (b = 0) gives 1; u = −∞ (a = 0 < b) gives +∞·… — callers handle zeros.
GSA_HD double dln_grad_term(double u, double inv_n) {
  if (isnan(u)) return NAN;
  if (inv_n == 1.0) return 0.0;
  if (fabs(u) < 1e-2) {
    const double n2 = inv_n * inv_n, u2 = u * u;
    return 0.5 * (1.0 - inv_n) + u / 6.0 * (1.0 - n2) - u * u2 / 90.0 * (1.0 - n2 * n2) +
           u * u2 * u2 / 945.0 * (1.0 - n2 * n2 * n2);
  }
  if (u == INFINITY) return 1.0;
  if (u == -INFINITY) return INFINITY;
  const double first = 1.0 / (-::expm1(-2.0 * u));
  const double second = inv_n == 0.0 ? 1.0 / (2.0 * u) : inv_n / (-::expm1(-2.0 * u * inv_n));
  return first - second;
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
