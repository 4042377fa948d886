// Scalar math of the deep-linear-network metric operator and the effective rank (depth-math
// spec §8.3, §8.6). Header-only, GSA_HD: usable from C++ kernels and CUDA device code. No
// allocation, no exceptions; out-of-domain inputs give NaN.
#pragma once

#include <math.h>

#include "gsa_fast/config.hpp"
#include "gsa_fast/math/compensated.hpp"

namespace gsa {
namespace math {

// Eigenvalue λ_kl of 𝒜_{N,X} (spec §8.3) for singular values a = σ_k, b = σ_l ≥ 0:
//   λ = Σ_{p=1}^{N} a^{2(N−p)/N} b^{2(p−1)/N} = (a² − b²)/(a^{2/N} − b^{2/N}),
// in the stable form with M = max, m = min, x = 2 log(M/m):
//   λ = M^{2−2/N} (−expm1(−x)) / (−expm1(−x/N));  x = 0 → N·M^{2−2/N};  m = 0 → M^{2−2/N}.
// inv_n = 1/N; inv_n = 0 gives the N → ∞ log-mean Λ = (a² − b²)/(log a² − log b²):
//   Λ = M² (−expm1(−x))/x;  x = 0 → M²;  m = 0 → 0.
// Both zero: 0 (N ≥ 2 and N = ∞), 1 for N = 1 (λ ≡ 1). No ratio of singular values is formed.
// The same from precomputed pieces: lM ≥ lm the logs of max and min (lm may be −∞, lM finite),
// t = m/M ∈ [0, 1], rN = t^{2/N} (unused for inv_n = 0) and pM = M^{2−2/N} (M² for inv_n = 0).
// Kernels compute logs and powers once per σ. Away from ties (t^{2/N} ≤ ½, resp. t² ≤ ½) the
// direct ratio pM(1 − t²)/(1 − t^{2/N}) has no cancellation (1 − rN ≥ ½ and t² ≤ rN) and costs two
// divisions; nearer ties the expm1 form keeps full relative accuracy.
GSA_HD double dln_lambda_pre(double lM, double lm, double t, double rN, double pM, double inv_n) {
  if (inv_n == 1.0) return 1.0;
  if (lM == -INFINITY) return 0.0;  // both zero
  if (lm == -INFINITY) return inv_n == 0.0 ? 0.0 : pM;
  const double x = 2.0 * (lM - lm);
  if (inv_n == 0.0) {
    if (x == 0.0) return pM;
    const double r2 = t * t;
    return r2 <= 0.5 ? pM * ((1.0 - r2) / x) : pM * (-::expm1(-x) / x);
  }
  if (x == 0.0) return pM / inv_n;
  if (rN <= 0.5) return pM * (1.0 - t * t) / (1.0 - rN);
  return pM * (-::expm1(-x)) / (-::expm1(-x * inv_n));
}

// M^{2−2/N} (M² for inv_n = 0) from log M, without forming M² (no overflow for M < 1e154…).
GSA_HD double dln_lambda_power(double lM, double inv_n) {
  return lM == -INFINITY ? 0.0 : ::exp((2.0 - 2.0 * inv_n) * lM);
}

GSA_HD double dln_lambda(double a, double b, double inv_n) {
  if (!(a >= 0.0) || !(b >= 0.0) || !(inv_n >= 0.0) || !(inv_n <= 1.0)) return NAN;
  if (isinf(a) || isinf(b)) return NAN;
  const double M = a > b ? a : b, m = a > b ? b : a;
  const double lM = ::log(M), lm = ::log(m), t = M > 0.0 ? m / M : 1.0;
  return dln_lambda_pre(lM, lm, t, ::pow(t, 2.0 * inv_n), dln_lambda_power(lM, inv_n), inv_n);
}

// The per-σ pieces of dln_lambda_pre, computed once per singular value by the CPU kernel
// (cpp/src/depth_graded.cpp) and the CUDA kernel (cuda/depth.cu): σ, log σ, σ^{2−2/N} (σ² for
// inv_n = 0) and σ^{2/N}. A plain aggregate, so device code can keep a tile of them in shared memory.
struct DlnSigma {
  double s, l, p, q;
};

GSA_HD DlnSigma dln_sigma(double s, double inv_n) {
  DlnSigma r;
  r.s = s;
  r.l = ::log(s);
  r.p = dln_lambda_power(r.l, inv_n);
  r.q = ::exp(2.0 * inv_n * r.l);
  return r;
}

// A σ the λ formulas accept (finite, ≥ 0); kernels give NaN where one is not.
GSA_HD bool dln_sigma_ok(double s) { return s >= 0.0 && !isinf(s); }

// λ(a, b) from the per-σ pieces: the larger log is M (ties: a), t = m/M and t^{2/N} as ratios of
// the stored σ and σ^{2/N} (1 when M = 0).
GSA_HD double dln_lambda_entry(const DlnSigma& a, const DlnSigma& b, double inv_n) {
  return a.l >= b.l ? dln_lambda_pre(a.l, b.l, a.s > 0.0 ? b.s / a.s : 1.0,
                                     a.q > 0.0 ? b.q / a.q : 1.0, a.p, inv_n)
                    : dln_lambda_pre(b.l, a.l, a.s / b.s, b.q > 0.0 ? a.q / b.q : 1.0, b.p, inv_n);
}

// Effective rank (Roy–Vetterli, spec §8.6) accumulation for one spectrum, in the stable form
// σ̂ = σ/σ_max: H = log Σσ̂ − Σ σ̂ log σ̂ / Σσ̂, erank = exp(H) ∈ [1, rank]. The caller passes
// σ_max (> 0) and, for each σ, adds erank_term into (sum, sum_xlogx) with Neumaier compensation
// when it wishes; erank_finish turns the two sums into exp(H). σ_max = 0 (X = 0) gives NaN.
GSA_HD double erank_xlogx(double s_hat) { return s_hat > 0.0 ? s_hat * ::log(s_hat) : 0.0; }

// One σ of a spectrum with maximum mx > 0: σ̂ = σ/mx (exactly 1 at the maximum) into the
// compensated sums of σ̂ and σ̂ log σ̂ (the CPU kernel adds them in order; the CUDA kernel per
// thread, then merges the threads' sums with KahanSum::add(KahanSum)).
GSA_HD void erank_add(double s, double mx, KahanSum& sum, KahanSum& sum_xlogx) {
  const double h = s / mx;
  sum.add(h);
  sum_xlogx.add(erank_xlogx(h));
}

GSA_HD double erank_finish(double sum_hat, double sum_xlogx) {
  if (!(sum_hat >= 1.0)) return NAN;  // Σσ̂ ≥ σ̂_max = 1 unless σ_max = 0 or NaN
  const double H = ::log(sum_hat) - sum_xlogx / sum_hat;
  return ::exp(H);
}

}  // namespace math
}  // namespace gsa
