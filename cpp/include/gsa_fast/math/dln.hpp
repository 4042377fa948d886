// Scalar math of the deep-linear-network metric operator and the effective rank (depth-math
// spec §8.3, §8.6). Header-only, GSA_HD: usable from C++ kernels and CUDA device code. No
// allocation, no exceptions; out-of-domain inputs give NaN.
#pragma once

#include <math.h>

#include "gsa_fast/config.hpp"

namespace gsa {
namespace math {

// Eigenvalue λ_kl of 𝒜_{N,X} (spec §8.3) for singular values a = σ_k, b = σ_l ≥ 0:
//   λ = Σ_{p=1}^{N} a^{2(N−p)/N} b^{2(p−1)/N} = (a² − b²)/(a^{2/N} − b^{2/N}),
// in the stable form with M = max, m = min, x = 2 log(M/m):
//   λ = M^{2−2/N} (−expm1(−x)) / (−expm1(−x/N));  x = 0 → N·M^{2−2/N};  m = 0 → M^{2−2/N}.
// inv_n = 1/N; inv_n = 0 gives the N → ∞ log-mean Λ = (a² − b²)/(log a² − log b²):
//   Λ = M² (−expm1(−x))/x;  x = 0 → M²;  m = 0 → 0.
// Both zero: 0 (N ≥ 2 and N = ∞), 1 for N = 1 (λ ≡ 1). No ratio of singular values is formed.
GSA_HD double dln_lambda(double a, double b, double inv_n) {
  if (!(a >= 0.0) || !(b >= 0.0) || !(inv_n >= 0.0) || !(inv_n <= 1.0)) return NAN;
  if (isinf(a) || isinf(b)) return NAN;
  if (inv_n == 1.0) return 1.0;
  const double M = a > b ? a : b, m = a > b ? b : a;
  if (M == 0.0) return 0.0;
  if (inv_n == 0.0) {
    if (m == 0.0) return 0.0;
    const double x = 2.0 * (::log(M) - ::log(m));
    return x == 0.0 ? M * M : M * M * (-::expm1(-x) / x);
  }
  const double pm = ::exp((2.0 - 2.0 * inv_n) * ::log(M));  // M^{2−2/N}, no overflow of M²
  if (m == 0.0) return pm;
  const double x = 2.0 * (::log(M) - ::log(m));
  if (x == 0.0) return pm / inv_n;
  return pm * (-::expm1(-x)) / (-::expm1(-x * inv_n));
}

// Effective rank (Roy–Vetterli, spec §8.6) accumulation for one spectrum, in the stable form
// σ̂ = σ/σ_max: H = log Σσ̂ − Σ σ̂ log σ̂ / Σσ̂, erank = exp(H) ∈ [1, rank]. The caller passes
// σ_max (> 0) and, for each σ, adds erank_term into (sum, sum_xlogx) with Neumaier compensation
// when it wishes; erank_finish turns the two sums into exp(H). σ_max = 0 (X = 0) gives NaN.
GSA_HD double erank_xlogx(double s_hat) { return s_hat > 0.0 ? s_hat * ::log(s_hat) : 0.0; }

GSA_HD double erank_finish(double sum_hat, double sum_xlogx) {
  if (!(sum_hat >= 1.0)) return NAN;  // Σσ̂ ≥ σ̂_max = 1 unless σ_max = 0 or NaN
  const double H = ::log(sum_hat) - sum_xlogx / sum_hat;
  return ::exp(H);
}

}  // namespace math
}  // namespace gsa
