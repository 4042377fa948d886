// Exponent charts and residuals (spec §6, with §4.1–4.2, §5.3, §8.3).
//
// Everything here works on one spectrum given as s[0..q): the nonzero singular values divided by
// the largest one and sorted descending (s[0] = 1), with the orbit width d ≥ q (ranks q+1..d
// are zero padding) and a table u[k-1] = log k for k = 1..q. The CPU kernels (src/charts.cpp)
// prepare s in a per-worker workspace; a device kernel could call the same functions.
//
// Self-contained orbit helpers (on purpose: math/orbit.hpp belongs to another family):
//   g_d(α) = H_{d,2α} − 1 = Σ_{k=2}^{d} k^{-2α},   m_d(α) = ½ log d − ½ log1p(g_d(α)).
//
// Header-only, GSA_HD; no exceptions, no allocation; out-of-domain → NaN.
#pragma once

#include <math.h>
#include <stdint.h>

#include "gsa_fast/config.hpp"
#include "gsa_fast/math/harmonic.hpp"

namespace gsa {
namespace math {
namespace charts {

// ---------------------------------------------------------------- orbit helpers (§4.1–4.2)

// g_d(α) = Σ_{k=2}^{d} k^{-2α} (0 for d ≤ 1).
GSA_HD double g_d(int64_t d, double alpha) { return harmonic_range(2, d, 2.0 * alpha).h; }

// m_d(α) = ½ log d − ½ log1p(g_d(α)) (13), stable for large α.
GSA_HD double m_d(int64_t d, double alpha) {
  if (d < 1) return NAN;
  return 0.5 * log((double)d) - 0.5 * log1p(g_d(d, alpha));
}

// Signed radial residual ε(P,α) = m(P) − m_d(α) = ½[log1p(g_d(α)) − log1p(R)] (§6.1), with
// R = Σ_{k≥2} σ_k²/σ_1².
GSA_HD double radial_residual(double R, int64_t d, double alpha) {
  if (d < 1 || isnan(R) || isnan(alpha)) return NAN;
  return 0.5 * (log1p(g_d(d, alpha)) - log1p(R));
}

// ---------------------------------------------------------------- safeguarded Newton

// Root of a decreasing F on [a, b] with F(a) > 0 ≥ F(b): Newton steps from x0, replaced by
// bisection whenever they leave the current bracket. fn(x, &F, &dF). Stops after a Newton step
// of at most step_tol·max(1,|x|) — in the quadratic regime the error after it is
// ~ C·step² with C = |F''/2F'| (≤ (log d)²/(4 log 2) for the top chart), far below 1e-15 — or
// when the bracket is below 1e-15·max(1,|x|).
template <class Fn>
GSA_HD double newton_bracket(const Fn& fn, double a, double b, double x0, double step_tol) {
  double x = (x0 > a && x0 < b) ? x0 : 0.5 * (a + b);
  for (int it = 0; it < 200; ++it) {
    double F = 0.0, dF = 0.0;
    fn(x, &F, &dF);
    if (F == 0.0) return x;
    if (F > 0.0) {
      a = x;
    } else if (F < 0.0) {
      b = x;
    }
    const double newton = x - F / dF;  // NaN F or dF → NaN → bisection
    if (newton > a && newton < b) {
      if (fabs(newton - x) <= step_tol * fmax(1.0, fabs(newton))) return newton;
      x = newton;
    } else {
      x = 0.5 * (a + b);
      if (b - a <= 1e-15 * fmax(1.0, fabs(x))) return x;
    }
  }
  return x;
}

// ---------------------------------------------------------------- (a) top-radial chart

struct TopPhi {
  int64_t d;
  double logR;
  // φ(α) = log g_d(α) − log R, φ'(α) = −2 Σ_{k≥2} k^{-2α} log k / g_d(α) ∈ [−2 log d, −2 log 2].
  GSA_HD void operator()(double x, double* F, double* dF) const {
    const Sums3 r = harmonic_range(2, d, 2.0 * x);
    *F = log(r.h) - logR;
    *dF = -2.0 * r.l / r.h;
  }
};

// Φ_top = Π_J(m_d^{-1}(m(P))) (§6.2a): solve g_d(α) = R on J = [lo, hi], tolerance 1e-15
// (≤ 1e-14 absolute). d < 2 → NaN (UNIDENTIFIABLE).
GSA_HD double top_chart(double R, int64_t d, double lo, double hi) {
  if (d < 2 || isnan(R) || R < 0.0) return NAN;
  const double glo = g_d(d, lo);
  if (R >= glo) return lo;
  const double ghi = g_d(d, hi);
  if (R <= ghi) return hi;
  TopPhi phi{d, log(R)};
  // φ is convex and decreasing (log-sum-exp of linear functions): Newton from the left end
  // climbs monotonically to the root, the bracket only guards rounding.
  return newton_bracket(phi, lo, hi, lo, 1e-13);
}

// ---------------------------------------------------------------- (b) Bures projection chart

struct BuresEval {
  double F;     // (log f)'(α) = E_{p(α)}[log k] − E_{q(α)}[log k]
  double dF;    // F'(α) = Var_{q(α)}(log k) − 2 Var_{p(α)}(log k)
  double logf;  // log f(α) = log Σ_k s_k k^{-α} − ½ log H_{d,2α}
};

GSA_HD BuresEval bures_eval(const double* s, const double* u, int64_t q, int64_t d, double alpha) {
  KahanSum s0, s1;
  double s2 = 0.0;
  for (int64_t k = 0; k < q; ++k) {
    const double w = s[k] * exp(-alpha * u[k]);
    s0.add(w);
    s1.add(w * u[k]);
    s2 += w * u[k] * u[k];
  }
  const double S0 = s0.value(), S1 = s1.value();
  const Sums3 h = harmonic_sums(d, 2.0 * alpha);
  const double Eq = S1 / S0, Ep = h.l / h.h;
  const double Vq = s2 / S0 - Eq * Eq, Vp = h.q / h.h - Ep * Ep;
  return {Ep - Eq, Vq - 2.0 * Vp, log(S0) - 0.5 * log(h.h)};
}

struct BuresF {
  const double* s;
  const double* u;
  int64_t q, d;
  GSA_HD void operator()(double x, double* F, double* dF) const {
    const BuresEval e = bures_eval(s, u, q, d, x);
    *F = e.F;
    *dF = e.dF;
  }
};

// Refine a local maximum of f bracketed by [a, b] with Fa = F(a) > 0 ≥ F(b) = Fb (§6.2b),
// starting from the regula-falsi point (error O((b − a)²) on a fine grid).
GSA_HD double bures_refine(const double* s, const double* u, int64_t q, int64_t d, double a,
                           double b, double Fa, double Fb) {
  BuresF fn{s, u, q, d};
  double x0 = a + (b - a) * Fa / (Fa - Fb);
  if (!(x0 > a && x0 < b)) x0 = 0.5 * (a + b);
  return newton_bracket(fn, a, b, x0, 1e-13);
}

// ---------------------------------------------------------------- (c) log-spectrum LS chart

struct LsqFit {
  double alpha;      // Π_J(α*)
  double intercept;  // b̂ = ȳ + α̂ x̄ for the Frobenius-normalized spectrum ‖σ‖² = d
};

// Closed form on the window of ranks k0..k1 (1-based, inclusive) of s; y = log s_k. NaN if the
// window has < 2 points or reaches past q (a zero inside the window). norm2 = Σ_k s_k².
GSA_HD LsqFit lsq_chart(const double* s, const double* u, int64_t q, int64_t d, int64_t k0,
                        int64_t k1, double lo, double hi, double norm2) {
  if (k0 < 1 || k1 > q || k1 - k0 < 1 || d < 1) return {NAN, NAN};
  const int64_t m = k1 - k0 + 1;
  // x̄ from the table first; then one pass over y' = log s_k − log s_{k0} (shifted so that
  // Σ(x − x̄)·ȳ', which is zero up to rounding, stays negligible): Sxy = Σ(x − x̄) y'.
  KahanSum sx;
  for (int64_t k = k0 - 1; k < k1; ++k) sx.add(u[k]);
  const double xb = sx.value() / (double)m;
  const double y0 = log(s[k0 - 1]);
  KahanSum sy, sxy, sxx;
  for (int64_t k = k0 - 1; k < k1; ++k) {
    const double xc = u[k] - xb, yk = log(s[k]) - y0;
    sy.add(yk);
    sxy.add(xc * yk);
    sxx.add(xc * xc);
  }
  const double yb = y0 + sy.value() / (double)m;
  double a = -sxy.value() / sxx.value();
  a = a < lo ? lo : (a > hi ? hi : a);
  const double shift = 0.5 * log((double)d) - 0.5 * log(norm2);
  return {a, yb + shift + a * xb};
}

// ---------------------------------------------------------------- chart error (§5.3)

// Ē(P,α) = ‖√p(P) − √p(α)‖₂ by the direct sum of squared differences over k = 1..d (never the
// BC form 2(1 − BC), which loses all digits as Ē → 0); clamped to [0, √2].
GSA_HD double chart_error(const double* s, const double* u, int64_t q, int64_t d, double alpha,
                          double norm2) {
  if (q < 1 || d < q || isnan(alpha)) return NAN;
  const double H = harmonic_sums(d, 2.0 * alpha).h;
  const double ih = 1.0 / sqrt(H), in = 1.0 / sqrt(norm2);
  KahanSum acc;
  for (int64_t k = 0; k < q; ++k) {
    const double diff = s[k] * in - exp(-alpha * u[k]) * ih;
    acc.add(diff * diff);
  }
  if (d > q) acc.add(harmonic_range(q + 1, d, 2.0 * alpha).h / H);  // Σ_{k>q} p_k(α)
  const double e = sqrt(fmax(0.0, acc.value()));
  return fmin(e, sqrt(2.0));
}

// ---------------------------------------------------------------- tail residual (§8.3)

// τ(A,α) = max_{0≤j≤d} |T_A(j) − T_α(j)|, both tails by suffix sums. w is a workspace of q
// doubles. For j ≥ q, T_A(j) = 0 and T_α is nonincreasing, so j ≤ q suffices.
GSA_HD double tail_residual(const double* s, const double* u, int64_t q, int64_t d, double alpha,
                            double* w) {
  if (q < 1 || d < q || isnan(alpha)) return NAN;
  const double tail = harmonic_range(q + 1, d, 2.0 * alpha).h;  // Σ_{k=q+1}^{d} k^{-2α}
  double SA = 0.0, Sa = 0.0;
  for (int64_t k = 0; k < q; ++k) {
    w[k] = exp(-2.0 * alpha * u[k]);
  }
  // Totals summed small-to-large (the order of the suffix sums below), so T(0) = 1 exactly.
  for (int64_t k = q - 1; k >= 0; --k) {
    SA += s[k] * s[k];
    Sa += w[k];
  }
  const double H = Sa + tail;
  double sufA = 0.0, sufa = tail;
  double tau = tail / H;  // j = q
  for (int64_t k = q - 1; k >= 1; --k) {  // j = k: Σ_{m>k}
    sufA += s[k] * s[k];
    sufa += w[k];
    const double diff = fabs(sufA / SA - sufa / H);
    if (diff > tau) tau = diff;
  }
  return tau;
}

}  // namespace charts
}  // namespace math
}  // namespace gsa
