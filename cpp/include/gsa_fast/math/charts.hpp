// Exponent charts and residuals (spec §6, with §4.1–4.2, §5.3, §8.3).
//
// Everything here works on one spectrum given as s[0..q): the nonzero singular values divided by
// the largest one and sorted descending (s[0] = 1), with the orbit width d ≥ q (ranks q+1..d
// are zero padding) and a table u[k-1] = log k for k = 1..q. s is any indexable view S with
// s[k] → double: the CPU kernels (src/charts.cpp) pass a per-worker workspace (const double*),
// the CUDA kernels (cuda/charts.cu) the views Scaled/Shifted below over the caller's descending
// spectrum, which give the very values the workspace holds (no copy on the device).
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

// ---------------------------------------------------------------- spectrum views and tables

// Entries of the log table u (u[k-1] = log k) the top chart reads: the direct range of g_sums.
// Every kernel's table has at least this many (and at least the longest spectrum's length).
constexpr int64_t kLogTableMin = 4 * kHeadTerms + 1;

// s[k] = x[k]/vmax over a spectrum x whose nonzeros are x[0..q) in descending order: the values
// of the CPU workspace (gather_sorted), read in place.
template <class T>
struct Scaled {
  const T* x;
  double vmax;
  GSA_HD double operator[](int64_t k) const { return (double)x[k] / vmax; }
};

// s[k] = x[k]·2^e (exact), the LS chart's view (lsq_exponent).
template <class T>
struct Shifted {
  const T* x;
  int e;
  GSA_HD double operator[](int64_t k) const { return ldexp((double)x[k], e); }
};

// Σ_k s_k² (compensated).
template <class S>
GSA_HD double norm2(S s, int64_t q) {
  KahanSum acc;
  for (int64_t k = 0; k < q; ++k) acc.add(s[k] * s[k]);
  return acc.value();
}

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

// Root of a decreasing F on [a, b] with F(a) > 0 ≥ F(b) (F(b) may be an underflowed 0): Newton
// steps from x0, replaced by
// bisection whenever they leave the current bracket. fn(x, &F, &dF). Stops after a Newton step
// of at most step_tol·max(1,|x|) — in the quadratic regime the error after it is
// ~ C·step² with C = |F''/2F'| (≤ (log d)²/(4 log 2) for the top chart), far below 1e-15 — or
// when the bracket is below 1e-15·max(1,|x|). Up to 2200 steps: where F underflows (F = F' = 0
// far out on a huge J) the steps are bisections, and a bracket of 1e300 needs ~1050 of them to
// come down to 1e-15 at α ~ 1 (200 stopped at ~1e300·2^-200 = 6e239: J = (0, 1e300) gave
// α = 1.2e237 for a k^-1.3 spectrum).
constexpr int kChartMaxSteps = 2200;  // the step cap of newton_bracket and of top_chart

template <class Fn>
GSA_HD double newton_bracket(const Fn& fn, double a, double b, double x0, double step_tol) {
  double x = (x0 > a && x0 < b) ? x0 : 0.5 * (a + b);
  for (int it = 0; it < kChartMaxSteps; ++it) {
    double F = 0.0, dF = 0.0;
    fn(x, &F, &dF);
    // F = 0 with F' = 0 is an underflow (every k ≥ 2 term vanished, e.g. far out on a huge
    // J), not a root: treat it as F ≤ 0 and keep bisecting towards representable values.
    if (F == 0.0 && dF != 0.0) return x;
    if (F > 0.0) {
      a = x;
    } else if (F <= 0.0) {
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

// Σ_{k=2}^{d} k^{-s} (log k)^j, j = 0,1,2: the algorithm of harmonic_range(2, d, s) (direct
// for d ≤ 257; else a direct head k = 2..127 plus Euler–Maclaurin from 128), with log k read
// from a table u[k-1] of at least min(d, 257) entries instead of recomputed (same values:
// the table holds log((double)k)). Null u → harmonic_range itself.
GSA_HD Sums3 g_sums(int64_t d, double s, const double* u) {
  if (u == nullptr) return harmonic_range(2, d, s);
  if (d < 2) return {0.0, 0.0, 0.0};
  const int64_t head_end = (d - 2 < 4 * kHeadTerms) ? d : 2 * kHeadTerms - 1;
  KahanSum h, l, q;
  for (int64_t k = 2; k <= head_end; ++k) {
    const double uk = u[k - 1];
    const double w = (s == 0.0) ? 1.0 : exp(-s * uk);
    h.add(w);
    l.add(w * uk);
    q.add(w * uk * uk);
  }
  Sums3 r = {h.value(), l.value(), q.value()};
  if (head_end < d) {
    const Sums3 t = em_range(head_end + 1, d, s);
    r.h += t.h;
    r.l += t.l;
    r.q += t.q;
  }
  return r;
}

// Φ_top = Π_J(m_d^{-1}(m(P))) (§6.2a): solve φ(α) = log g_d(α) − log R = 0 on J = [lo, hi].
// φ is convex and decreasing (a log-sum-exp of linear functions of α) with
// φ' = −2 E[log k] ∈ [−2 log d, −2 log 2] and φ'' = 4 Var(log k) over k ≥ 2 (all from one
// g_sums call): Halley steps from lo, bracket-safeguarded (bisection when a step leaves it),
// stopped after a step ≤ 1e-13·max(1, α) (cubic regime: the error left is ~1e-30), so the
// result is within 1e-14 absolute. d < 2 → NaN (UNIDENTIFIABLE). u: optional log table (see
// g_sums) of at least min(d, 257) entries.
GSA_HD double top_chart(double R, int64_t d, double lo, double hi, const double* u = nullptr) {
  if (d < 2 || isnan(R) || R < 0.0) return NAN;
  Sums3 r = g_sums(d, 2.0 * lo, u);
  if (R >= r.h) return lo;
  if (R <= g_sums(d, 2.0 * hi, u).h) return hi;
  const double logR = log(R);
  double a = lo, b = hi, x = lo;
  // kChartMaxSteps, as newton_bracket: past the point where g_d underflows (φ = −inf, steps
  // NaN) only bisection shrinks the bracket, ~1050 halvings from a J of 1e300 (200 stopped at
  // ~1e240: J = (0, 1e300), d = 257 gave 1e240 for a root at 0.70)
  for (int it = 0; it < kChartMaxSteps; ++it) {
    const double phi = log(r.h) - logR;
    if (phi == 0.0) return x;
    if (phi > 0.0) {
      a = x;
    } else if (phi < 0.0) {
      b = x;
    }
    const double m1 = r.l / r.h;
    const double d1 = -2.0 * m1, d2 = 4.0 * (r.q / r.h - m1 * m1);
    const double den = 2.0 * d1 * d1 - phi * d2;
    const double xn = (den > 0.0) ? x - 2.0 * phi * d1 / den : x - phi / d1;  // Halley | Newton
    if (xn > a && xn < b) {
      if (fabs(xn - x) <= 1e-13 * fmax(1.0, fabs(xn))) return xn;
      x = xn;
    } else {
      x = 0.5 * (a + b);
      if (b - a <= 1e-15 * fmax(1.0, fabs(x))) return x;
    }
    r = g_sums(d, 2.0 * x, u);
  }
  return x;
}

// ---------------------------------------------------------------- (b) Bures projection chart
// s, u as in the file header; u must have at least max(q, min(d, 257)) entries.

struct BuresEval {
  double F;     // (log f)'(α) = E_{p(α)}[log k] − E_{q(α)}[log k]
  double dF;    // F'(α) = Var_{q(α)}(log k) − 2 Var_{p(α)}(log k)
  double logf;  // log f(α) = log Σ_k s_k k^{-α} − ½ log H_{d,2α}
};

template <class S>
GSA_HD BuresEval bures_eval(S s, const double* u, int64_t q, int64_t d, double alpha) {
  KahanSum s0, s1;
  double s2 = 0.0;
  for (int64_t k = 0; k < q; ++k) {
    const double w = s[k] * exp(-alpha * u[k]);
    s0.add(w);
    s1.add(w * u[k]);
    s2 += w * u[k] * u[k];
  }
  const double S0 = s0.value(), S1 = s1.value();
  Sums3 h = g_sums(d, 2.0 * alpha, u);  // u has ≥ min(d, 257) entries (see the kernels)
  h.h += 1.0;                            // k = 1

  const double Eq = S1 / S0, Ep = h.l / h.h;
  const double Vq = s2 / S0 - Eq * Eq, Vp = h.q / h.h - Ep * Ep;
  return {Ep - Eq, Vq - 2.0 * Vp, log(S0) - 0.5 * log(h.h)};
}

template <class S>
struct BuresF {
  S s;
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
template <class S>
GSA_HD double bures_refine(S s, const double* u, int64_t q, int64_t d, double a,
                           double b, double Fa, double Fb) {
  BuresF<S> fn{s, u, q, d};
  double x0 = (Fb < 0.0) ? a + (b - a) * Fa / (Fa - Fb) : 0.5 * (a + b);
  if (!(x0 > a && x0 < b)) x0 = 0.5 * (a + b);
  return newton_bracket(fn, a, b, x0, 1e-13);
}

constexpr int kBuresGrid = 257;  // grid points of J (§6.2b)

// The j-th grid point of J = [lo, hi] (the last one is hi exactly).
GSA_HD double bures_grid_point(int j, double lo, double hi) {
  return (j == kBuresGrid - 1) ? hi : lo + j * ((hi - lo) / (kBuresGrid - 1));
}

// The candidate of largest exact log f seen so far (a strict >: ties keep the earlier, smaller α).
struct BuresBest {
  double alpha = NAN, logf = -INFINITY;
  template <class S>
  GSA_HD void consider(S s, const double* u, int64_t q, int64_t d, double a) {
    const double lf = bures_eval(s, u, q, d, a).logf;
    if (lf > logf) {
      logf = lf;
      alpha = a;
    }
  }
};

// Φ_BW from the signs of F = (log f)' at the kBuresGrid grid points of J: every + → − crossing
// refined by Newton (bures_refine), the endpoints that are local maxima added, and the candidate
// of largest exact log f kept; ties → smallest α. NaN for d < 2 or q < 1.
template <class S>
GSA_HD double bures_pick(const double* F, S s, const double* u, int64_t q, int64_t d, double lo,
                         double hi) {
  if (d < 2 || q < 1) return NAN;
  BuresBest best;  // candidates visited in increasing α
  if (F[0] <= 0.0) best.consider(s, u, q, d, lo);
  for (int j = 0; j + 1 < kBuresGrid; ++j) {
    if (F[j] > 0.0 && F[j + 1] <= 0.0) {
      // F[j + 1] == 0 may be an underflow (huge J): refine anyway, the solver knows
      best.consider(s, u, q, d, bures_refine(s, u, q, d, bures_grid_point(j, lo, hi),
                                             bures_grid_point(j + 1, lo, hi), F[j], F[j + 1]));
    }
  }
  if (F[kBuresGrid - 1] >= 0.0) best.consider(s, u, q, d, hi);
  return best.alpha;
}

// ---------------------------------------------------------------- (c) log-spectrum LS chart

struct LsqFit {
  double alpha;      // Π_J(α*)
  double intercept;  // b̂ = ȳ + α̂ x̄ for the Frobenius-normalized spectrum ‖σ‖² = d
};

// Closed form on the window of ranks k0..k1 (1-based, inclusive) of s; y = log s_k. NaN if the
// window has < 2 points or reaches past q (a zero inside the window). norm2 = Σ_k s_k².
template <class S>
GSA_HD LsqFit lsq_chart(S s, const double* u, int64_t q, int64_t d, int64_t k0,
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

// The power of two e that the LS chart's view Shifted applies: normally 2^e puts the largest
// nonzero vmax in [0.5, 1); when some ratio σ_k/σ_1 would be subnormal or flush to 0 (spectra
// spanning more than ~307 decades; log 0 = −inf), it puts vmax in [2^1023, 2^1024) instead: then
// e = 1024 − exponent(vmax) ≥ 0, so every nonzero value is multiplied by 2^e ≥ 1 and stays
// nonzero (and no less precise than stored), for any spread a float64 spectrum can have. (It put
// vmax in [2^1020, 2^1021) before, which flushed values below σ_1·2^-2094 to 0 — e.g. 5e-324
// next to 1.7e308 — and made the fit NaN.) vmin: the smallest nonzero.
GSA_HD int lsq_exponent(double vmax, double vmin) {
  int e = 0, emin = 0;
  frexp(vmax, &e);
  frexp(vmin, &emin);
  return (emin - e < -1000) ? 1024 - e : -e;
}

// The LS chart of a spectrum view s = Shifted (descending, q nonzeros) on the window k0..k1
// (k1 = 0: 1..q); the intercept is moved back by log(vmax·2^e), the shift of every log s_k.
template <class S>
GSA_HD LsqFit lsq_fit(S s, const double* u, int64_t q, int64_t d, int64_t k0, int64_t k1,
                      double lo, double hi, double vmax, int e) {
  KahanSum acc;  // Σ (s_k/s_1)², from the shifted values (tiny terms underflow harmlessly)
  for (int64_t k = 0; k < q; ++k) acc.add((s[k] / s[0]) * (s[k] / s[0]));
  const int64_t a0 = k1 ? k0 : 1, a1 = k1 ? k1 : q;
  LsqFit f = lsq_chart(s, u, q, d, a0, a1, lo, hi, acc.value());
  f.intercept -= log(ldexp(vmax, e));  // ȳ was taken over log(σ_k·2^e)
  return f;
}

// ---------------------------------------------------------------- chart error (§5.3)

// Ē(P,α) = ‖√p(P) − √p(α)‖₂ by the direct sum of squared differences over k = 1..d (never the
// BC form 2(1 − BC), which loses all digits as Ē → 0); clamped to [0, √2].
template <class S>
GSA_HD double chart_error(S s, const double* u, int64_t q, int64_t d, double alpha,
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

// The orbit weights w[k] = k^{-2α} = exp(−2α log k) (k 0-based: log(k+1) = u[k]), computed on
// each read: the CUDA tail residual reads them this way instead of from a workspace.
struct OrbitWeights {
  const double* u;
  double alpha;
  GSA_HD double operator[](int64_t k) const { return exp(-2.0 * alpha * u[k]); }
};

// τ(A,α) = max_{0≤j≤d} |T_A(j) − T_α(j)|, both tails by suffix sums, from the weights w[k] of
// OrbitWeights (read twice each). For j ≥ q, T_A(j) = 0 and T_α is nonincreasing, so j ≤ q
// suffices.
template <class S, class W>
GSA_HD double tail_residual_with(S s, W w, int64_t q, int64_t d, double alpha) {
  if (q < 1 || d < q || isnan(alpha)) return NAN;
  const double tail = harmonic_range(q + 1, d, 2.0 * alpha).h;  // Σ_{k=q+1}^{d} k^{-2α}
  double SA = 0.0, Sa = 0.0;
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

// The same with the weights stored once in a workspace w of q doubles (the CPU kernel).
template <class S>
GSA_HD double tail_residual(S s, const double* u, int64_t q, int64_t d, double alpha, double* w) {
  if (q < 1 || d < q || isnan(alpha)) return NAN;
  const OrbitWeights ow{u, alpha};
  for (int64_t k = 0; k < q; ++k) w[k] = ow[k];
  return tail_residual_with(s, static_cast<const double*>(w), q, d, alpha);
}

}  // namespace charts
}  // namespace math
}  // namespace gsa
