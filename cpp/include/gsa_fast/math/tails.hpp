// Tails and truncation ranks of the power-law orbit (spec §8.2–§8.4).
//
//   T_α(r) = Σ_{k=r+1}^{d} k^-2α / H_{d,2α}            (r = 0..d, T(0) = 1, T(d) = 0)
//   r_ε(α) = min{ r ≥ 1 : T_α(r) ≤ ε }                  (binary search in the (81)/(82) bracket)
//   γ_ε(α) = min(ε − T_α(r), T_α(r−1) − ε), r = r_ε(α)  (tail margin)
//   a_r    = root in α of T_α(r) = ε (a_r = 0 where 1 − r/d ≤ ε; a_r = 0 for r ≥ d)
//
// Suffix sums Σ_{k=a}^{b} k^-s are evaluated by `power_range` below (direct head + Euler–Maclaurin,
// as math/harmonic.hpp) with the log-width log(b/A) taken as log1p((b−A)/A): the shared
// harmonic_range forms it as log b − log A, which loses ~1e-9 relative for short ranges far out
// (a ≈ 1e12..1e15, b − a ≈ 1e6..1e9), exactly the suffixes a tail near r ≈ d needs.
//
// Header-only, GSA_HD; no exceptions, no allocation; out-of-domain → NaN (or −1 for ranks).
#pragma once

#include <math.h>
#include <stdint.h>

#include "gsa_fast/config.hpp"
#include "gsa_fast/math/harmonic.hpp"

namespace gsa {
namespace math {

// Σ_{k=a}^{b} k^-s (a ≥ 1, s ≥ 0); empty range → 0.
GSA_HD double power_range(int64_t a, int64_t b, double s) {
  if (a < 1) a = 1;
  if (b < a) return 0.0;
  if (s == 0.0) return (double)(b - a + 1);
  if (s > 1500.0) s = 1500.0;  // k^-s for k ≥ 2 underflows to 0 beyond s ≈ 1100: same sums
  KahanSum acc;
  int64_t head_end = b;
  const bool em = (b - a >= 4 * kHeadTerms);
  if (em) {
    const int64_t m = (a > kHeadTerms ? a : kHeadTerms);
    head_end = m + kHeadTerms - 1;
  }
  for (int64_t k = a; k <= head_end; ++k) acc.add(exp(-s * log((double)k)));
  if (!em) return acc.value();
  const int64_t A = head_end + 1;
  const double xa = (double)A, xb = (double)b;
  const double la = log(xa), lb = log(xb);
  const double D = log1p((double)(b - A) / xa);
  const double t = 1.0 - s, x = t * D;
  const double E0 = (x == 0.0) ? D : D * (expm1(x) / x);  // ∫_0^D e^{tv} dv
  // A^{1−s} = e^{t·log A} with t·log A carried to double-double (log A's low part by one Newton
  // step): a rounded t·log A (≈ 12 at A ~ 2.5e5) is off by up to ~1e-15 relative, and the
  // integral is nearly the whole suffix for s → 0 (T_{1e-9}(254070) at d = 1e6 was 10 ulp off,
  // tail_margin 1.1e-15 absolute, over its 1e-15 contract; mpmath-checked).
  const double ea = exp(la);
  const double la_lo = (xa - ea) / ea;
  const double yh = t * la;
  const double integral = exp_dd(yh, fma(t, la, -yh) + t * la_lo) * E0;
  const double fa = exp(-s * la), fb = exp(-s * lb);
  // f^(1) = −s x^{-s-1}, f^(3) = −s(s+1)(s+2) x^{-s-3}, f^(5) = −s(s+1)…(s+4) x^{-s-5}
  const double c1 = -s, c3 = c1 * (s + 1.0) * (s + 2.0), c5 = c3 * (s + 3.0) * (s + 4.0);
  const double corr = (1.0 / 12.0) * c1 * (exp(-(s + 1) * lb) - exp(-(s + 1) * la)) -
                      (1.0 / 720.0) * c3 * (exp(-(s + 3) * lb) - exp(-(s + 3) * la)) +
                      (1.0 / 30240.0) * c5 * (exp(-(s + 5) * lb) - exp(-(s + 5) * la));
  acc.add(integral + 0.5 * (fa + fb) + corr);
  return acc.value();
}

GSA_HD bool tail_domain_ok(double alpha, int64_t d) {
  return d >= 1 && alpha >= 0.0 && alpha <= 1.7976931348623157e308;
}

// T_α(r) given H = H_{d,2α} (so a search evaluates H once).
GSA_HD double orbit_tail_h(double s, int64_t r, int64_t d, double H) {
  if (r <= 0) return 1.0;
  if (r >= d) return 0.0;
  if (s == 0.0) return (double)(d - r) / (double)d;
  return power_range(r + 1, d, s) / H;
}

// T_α(r) (Def 5.3); relative error a few ulp.
GSA_HD double orbit_tail(double alpha, int64_t r, int64_t d) {
  if (!tail_domain_ok(alpha, d) || r < 0 || r > d) return NAN;
  const double s = 2.0 * alpha;
  return orbit_tail_h(s, r, d, (r <= 0 || r >= d) ? 1.0 : power_range(1, d, s));
}

namespace tails_detail {

// F_s^{-1}(y) for F_s(x) = (x^{1−s} − 1)/(1−s) (log x at s = 1); +inf when y ≥ sup F_s.
GSA_HD double inv_F(double s, double y) {
  const double t = 1.0 - s;
  if (t == 0.0) return exp(y);
  const double z = t * y;
  if (z <= -1.0) return INFINITY;
  return exp(log1p(z) / t);
}

GSA_HD double F(double s, double x) {
  const double t = 1.0 - s;
  const double lx = log(x);
  if (t == 0.0) return lx;
  const double z = t * lx;
  return (z == 0.0) ? lx : lx * (expm1(z) / z);
}

}  // namespace tails_detail

// r_ε(α) = min{r ≥ 1 : T_α(r) ≤ ε} (spec §8.1–8.2). ε ≥ 1 → 1, ε = 0 → d. O(log d) suffix sums:
// binary search inside the Theorem 5.5 bracket [lower − 2, upper + 2], each end checked.
// Returns −1 for out-of-domain input.
GSA_HD int64_t orbit_truncation_rank(double alpha, double eps, int64_t d) {
  using namespace tails_detail;
  if (!tail_domain_ok(alpha, d) || !(eps >= 0.0)) return -1;
  if (eps >= 1.0 || d == 1) return 1;
  if (eps == 0.0) return d;
  const double s = 2.0 * alpha;
  const double H = (s == 0.0) ? (double)d : power_range(1, d, s);
  auto pred = [&](int64_t r) { return orbit_tail_h(s, r, d, H) <= eps; };
  // Bracket from Lemma 5.4: upper from ∫_r^d, lower from ∫_{r+1}^{d+1}.
  int64_t lo = 1, hi = d;
  const double yu = F(s, (double)d) - eps * H;
  if (yu <= 0.0) {
    hi = 1;
  } else {
    const double x = inv_F(s, yu);
    if (x < (double)d - 3.0) hi = (int64_t)ceil(x) + 2;
  }
  const double yl = F(s, (double)d + 1.0) - eps * H;
  if (yl > 0.0) {
    const double x = inv_F(s, yl);
    if (x < (double)d) {
      const int64_t c = (int64_t)floor(x) - 2;
      if (c > lo) lo = c;
    }
  }
  if (hi < 1) hi = 1;
  if (hi > d) hi = d;
  if (lo > hi) lo = hi;
  if (!pred(hi)) {
    lo = hi;  // bracket too low (rounding): search the rest
    hi = d;
  }
  if (lo > 1 && pred(lo - 1)) lo = 1;
  // smallest r in [lo, hi] with pred(r); pred(hi) holds.
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (pred(mid)) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return hi;
}

// γ_ε(α) = min(ε − T_α(r), T_α(r−1) − ε) with r = r_ε(α) (spec §8.3); ≥ 0.
GSA_HD double tail_margin(double alpha, double eps, int64_t d) {
  if (!tail_domain_ok(alpha, d) || !(eps > 0.0 && eps < 1.0)) return NAN;
  const int64_t r = orbit_truncation_rank(alpha, eps, d);
  const double s = 2.0 * alpha;
  const double H = (s == 0.0) ? (double)d : power_range(1, d, s);
  const double tr = orbit_tail_h(s, r, d, H);
  const double tp = orbit_tail_h(s, r - 1, d, H);
  const double g = fmin(eps - tr, tp - eps);
  return g > 0.0 ? g : 0.0;
}

// a_r(ε, d): the root in α of T_α(r) = ε (spec §8.4). a_r = 0 where 1 − r/d ≤ ε (and for
// r ≥ d), +inf for r ≤ 0. Safeguarded Newton on log T_α(r) − log ε (strictly decreasing in α),
// with ∂_α log T = 2(E_α[log k] − E_α[log k | k > r]); converges to a few ulp in α.
GSA_HD double plateau_threshold(double eps, int64_t d, int64_t r) {
  if (d < 1 || !(eps > 0.0 && eps < 1.0)) return NAN;
  if (r <= 0) return INFINITY;
  if (r >= d) return 0.0;
  if ((double)(d - r) / (double)d <= eps) return 0.0;
  const double leps = log(eps);
  auto f = [&](double a, double* dfda) {
    const double s = 2.0 * a;
    const double H = power_range(1, d, s);
    const double S = power_range(r + 1, d, s);
    if (dfda) {
      const Sums3 all = harmonic_sums(d, s);
      const Sums3 tl = harmonic_range(r + 1, d, s);
      *dfda = 2.0 * (all.l / all.h - tl.l / tl.h);
    }
    return log(S / H) - leps;
  };
  double lo = 0.0, hi = 1.0;
  while (f(hi, nullptr) > 0.0) {
    lo = hi;
    hi *= 2.0;
    if (hi > 1e6) return NAN;
  }
  double a = 0.5 * (lo + hi);
  for (int it = 0; it < 200; ++it) {
    double df;
    const double fa = f(a, &df);
    if (fa == 0.0) return a;
    if (fa > 0.0) {
      lo = a;
    } else {
      hi = a;
    }
    double next = (df < 0.0) ? a - fa / df : 0.5 * (lo + hi);
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (fabs(next - a) <= 2e-16 * a || hi - lo <= 4e-16 * hi) {
      a = next;
      break;
    }
    a = next;
  }
  return a;
}

// L_T (Lemma 5.8): paper constant 2 log d, sharp constant ½ log d.
GSA_HD double tail_lipschitz(int64_t d, bool sharp) {
  if (d < 1) return NAN;
  return (sharp ? 0.5 : 2.0) * log((double)d);
}

}  // namespace math
}  // namespace gsa
