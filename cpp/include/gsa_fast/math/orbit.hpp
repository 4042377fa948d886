// Power-law orbit P(α) = d·diag(k^-2α)/H_{d,2α}: Gibbs law, radial functional, information
// geometry and Bures–Wasserstein geometry (spec §4, §5.3).
//
// Every quantity is a function of (α, d) (or (α, β, d)) computed from O(1) sums over k = 1..d,
// never from a materialized spectrum, so d may be 1e15:
//   * H, L, Q (Σ k^-s (log k)^j) come from gsa::math::harmonic_range (math/harmonic.hpp);
//     g_d = H − 1 = harmonic_range(2, d, s).h keeps the residual form of m_d exact at large α.
//   * Sums whose closed forms cancel — Σ k^-s (log k − c)^2 (centred variance) and
//     Σ k^-s φ(t(log k − c)) with φ(y) = e^y − 1 − y (stable KL §4.4 and Bures (F1) for small
//     |β − α|) — are evaluated by `weighted_sum`: an exact head k < 128 and Euler–Maclaurin on
//     [128, d] whose integral ∫ e^{(1−s)u} F(u) du (u = log x) is done by 16-point
//     Gauss–Legendre panels. The summands are non-negative, so nothing cancels: relative error
//     is a few ulp for any d, and the results go to exactly 0 as β → α.
//
// Header-only, GSA_HD (callable from CUDA); no exceptions, no allocation; out-of-domain → NaN.
#pragma once

#include <math.h>
#include <stdint.h>

#include "gsa_fast/config.hpp"
#include "gsa_fast/math/harmonic.hpp"

namespace gsa {
namespace math {
namespace orbit_detail {

constexpr double kEps = 1.1102230246251565e-16;  // unit roundoff 2^-53
constexpr int64_t kHead = 128;                     // exact head k < kHead before Euler–Maclaurin
constexpr int64_t kDirectMax = 320;                // d below this: direct sum only

// φ(y) = e^y − 1 − y ≥ 0 without cancellation (series for |y| < 0.5).
GSA_HD double phi(double y) {
  if (fabs(y) < 0.5) {
    // y² Σ_{n≥2} y^{n-2}/n!, up to n = 18 (0.5^17/18! < 1e-20)
    double acc = 1.0 / 6402373705728000.0;  // 1/18!
    const double inv_fact[16] = {1.0 / 2.0,        1.0 / 6.0,         1.0 / 24.0,
                                 1.0 / 120.0,      1.0 / 720.0,       1.0 / 5040.0,
                                 1.0 / 40320.0,    1.0 / 362880.0,    1.0 / 3628800.0,
                                 1.0 / 39916800.0, 1.0 / 479001600.0, 1.0 / 6227020800.0,
                                 1.0 / 87178291200.0, 1.0 / 1307674368000.0,
                                 1.0 / 20922789888000.0, 1.0 / 355687428096000.0};
    for (int i = 15; i >= 0; --i) acc = acc * y + inv_fact[i];
    return y * y * acc;
  }
  return expm1(y) - y;
}

// F(u) = (u − c)^2 and its derivatives in u.
struct ShiftedSquare {
  double c;
  GSA_HD double value(double u) const {
    const double v = u - c;
    return v * v;
  }
  GSA_HD void derivs(double u, double F[6]) const {
    const double v = u - c;
    F[0] = v * v;
    F[1] = 2.0 * v;
    F[2] = 2.0;
    F[3] = F[4] = F[5] = 0.0;
  }
  GSA_HD double rate() const { return 0.0; }  // extra exponential rate of F in u
};

// F(u) = φ(t (u − c)) and its derivatives in u: F' = t·expm1(y), F^(i) = t^i e^y (i ≥ 2).
struct PhiShift {
  double t, c;
  GSA_HD double value(double u) const { return phi(t * (u - c)); }
  GSA_HD void derivs(double u, double F[6]) const {
    const double y = t * (u - c);
    F[0] = phi(y);
    F[1] = t * expm1(y);
    double ti = t * t, ey = exp(y);
    for (int i = 2; i < 6; ++i) {
      F[i] = ti * ey;
      ti *= t;
    }
  }
  GSA_HD double rate() const { return t; }
};

// x^-s F(log x) summed directly over k = a..b (Neumaier compensation; terms are ≥ 0).
template <class Fn>
GSA_HD double direct_weighted(int64_t a, int64_t b, double s, const Fn& f) {
  KahanSum acc;
  for (int64_t k = a; k <= b; ++k) {
    const double u = log((double)k);
    const double w = (s == 0.0) ? 1.0 : exp(-s * u);
    acc.add(w * f.value(u));
  }
  return acc.value();
}

// The one Gauss–Legendre table: the 16-point rule on [-1, 1], nodes ±x[i] with weights w[i].
// (A struct with member initializers, so host and device code build it the same way.)
struct GaussLegendre16 {
  double x[8] = {0.09501250983763744, 0.2816035507792589, 0.45801677765722737,
                 0.6178762444026438,  0.755404408355003,  0.8656312023878318,
                 0.9445750230732326,  0.9894009349916499};
  double w[8] = {0.18945061045506864, 0.18260341504492364, 0.16915651939500265,
                 0.1495959888165767,  0.12462897125553407, 0.0951585116824926,
                 0.062253523938647456, 0.027152459411754176};
};

// ∫_{log A}^{log B} e^{(1−s)u} F(u) du by 16-point Gauss–Legendre panels of width ≤ 8/λ, where λ
// is the largest exponential rate of the integrand; a fast-decaying integrand is cut once the
// remainder is below e^-60 of its start.
template <class Fn>
GSA_HD double gl_integral(int64_t A, int64_t B, double s, const Fn& f) {
  const GaussLegendre16 gl{};
  const double* gx = gl.x;
  const double* gw = gl.w;
  const double ua = log((double)A);
  double D = log1p((double)(B - A) / (double)A);  // accurate even for short ranges
  const double r0 = 1.0 - s, r1 = 1.0 - s + f.rate();
  const double lam = fmax(fmax(fabs(r0), fabs(r1)), 1e-3);
  const double rmin = -fmax(r0, r1);  // slowest decay rate (≤ 0: no decay)
  if (rmin > 1.0 && D > 60.0 / rmin + 1.0) D = 60.0 / rmin + 1.0;
  double h = 8.0 / lam;
  int64_t panels = (int64_t)ceil(D / h);
  if (panels < 1) panels = 1;
  h = D / (double)panels;
  const double scale = exp(r0 * ua);
  KahanSum acc;
  for (int64_t p = 0; p < panels; ++p) {
    const double mid = (p + 0.5) * h, half = 0.5 * h;
    double sp = 0.0;
    for (int i = 0; i < 8; ++i) {
      const double v1 = mid - half * gx[i], v2 = mid + half * gx[i];
      sp += gw[i] * (exp(r0 * v1) * f.value(ua + v1) + exp(r0 * v2) * f.value(ua + v2));
    }
    acc.add(sp * half);
  }
  return scale * acc.value();
}

// f^(m)(x) for m = 1, 3, 5 with f(x) = x^-s F(log x): f^(m) = x^{-s-m} Σ_i c_{m,i} F^(i)(log x),
// c_{0,0} = 1, c_{m+1,i} = c_{m,i-1} − (s+m) c_{m,i}.
template <class Fn>
GSA_HD void odd_derivatives(int64_t k, double s, const Fn& f, double out[3]) {
  const double u = log((double)k);
  double F[6];
  f.derivs(u, F);
  double c[6] = {1.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  int slot = 0;
  for (int m = 0; m < 5; ++m) {
    for (int i = m + 1; i >= 0; --i) c[i] = (i > 0 ? c[i - 1] : 0.0) - (s + m) * c[i];
    if ((m + 1) % 2 == 1) {
      double g = 0.0;
      for (int i = 0; i <= m + 1; ++i) g += c[i] * F[i];
      out[slot++] = exp(-(s + m + 1) * u) * g;
    }
  }
}

}  // namespace orbit_detail

// Exponent used inside sums: every term k ≥ 2 of k^-s underflows to 0 for s ≥ 1100, so clamping
// s at 1500 changes no sum in float64 and keeps s^5 (Euler–Maclaurin derivative coefficients)
// and s·log 1 finite for α up to the largest double.
constexpr double kSumExponentMax = 1500.0;
GSA_HD double sum_exponent(double s) { return s < kSumExponentMax ? s : kSumExponentMax; }

// Σ_{k=1}^{d} k^-s F(log k) for a functor F (ShiftedSquare, PhiShift): exact head plus
// Euler–Maclaurin (three Bernoulli terms) with a Gauss–Legendre integral.
template <class Fn>
GSA_HD double weighted_sum(int64_t d, double s, const Fn& f) {
  using namespace orbit_detail;
  s = sum_exponent(s);
  if (d < kDirectMax) return direct_weighted(1, d, s, f);
  const int64_t A = kHead;
  double total = direct_weighted(1, A - 1, s, f);
  const double integral = gl_integral(A, d, s, f);
  const double ua = log((double)A), ub = log((double)d);
  const double fa = exp(-s * ua) * f.value(ua), fb = exp(-s * ub) * f.value(ub);
  double da[3], db[3];
  odd_derivatives(A, s, f, da);
  odd_derivatives(d, s, f, db);
  const double coef[3] = {1.0 / 12.0, -1.0 / 720.0, 1.0 / 30240.0};
  double corr = 0.0;
  for (int i = 2; i >= 0; --i) corr += coef[i] * (db[i] - da[i]);
  return total + (integral + 0.5 * (fa + fb) + corr);
}

// Sums of the orbit at exponent s = 2α: g = H − 1 = Σ_{k≥2} k^-s, H, L, Q.
struct OrbitSums {
  double g, h, l, q;
};

GSA_HD OrbitSums orbit_sums(int64_t d, double s) {
  const Sums3 r = harmonic_range(2, d, sum_exponent(s));
  if (s == 0.0) return {(double)(d - 1), (double)d, r.l, r.q};  // exact counts at α = 0
  return {r.h, 1.0 + r.h, r.l, r.q};
}

// log(H_b / H_a) from g = H − 1: log1p of the g-difference near 1 (keeps digits when both H ≈ 1
// or H_b ≈ H_a), log of the ratio otherwise (log1p(x) loses everything as x → −1).
GSA_HD double log_h_ratio(double gb, double ga) {
  const double ha = 1.0 + ga, hb = 1.0 + gb;
  const double r = hb / ha;
  if (r > 0.5 && r < 2.0) return log1p((gb - ga) / ha);
  return log(r);
}

GSA_HD bool orbit_domain_ok(double alpha, int64_t d) {
  return d >= 1 && alpha >= 0.0 && alpha <= 1.7976931348623157e308;
}

// ψ(α) = log H_{d,2α} = log1p(g_d(α)).
GSA_HD double log_partition(double alpha, int64_t d) {
  if (!orbit_domain_ok(alpha, d)) return NAN;
  return log1p(orbit_sums(d, 2.0 * alpha).g);
}

// m_d(α) = ½ log d − ½ log1p(g_d(α)) (13), residual form (no cancellation at large α).
GSA_HD double radial(double alpha, int64_t d) {
  if (!orbit_domain_ok(alpha, d)) return NAN;
  return 0.5 * log((double)d) - 0.5 * log1p(orbit_sums(d, 2.0 * alpha).g);
}

// m_d′(α) = E_α[log k] = L/H (11).
GSA_HD double radial_d1(double alpha, int64_t d) {
  if (!orbit_domain_ok(alpha, d)) return NAN;
  const OrbitSums o = orbit_sums(d, 2.0 * alpha);
  return o.l / o.h;
}

// Var_α(log k) from given sums (mean mu = L/H). Q/H − μ² when it cancels by less than a
// factor 8; otherwise the centred sum Σ k^-s (log k − μ)² / H (exact head + EM, no cancellation).
GSA_HD double variance_from_sums(const OrbitSums& o, int64_t d, double s) {
  const double mu = o.l / o.h;
  const double qh = o.q / o.h;
  const double fast = qh - mu * mu;
  if (d < orbit_detail::kDirectMax || !(qh <= 8.0 * fast)) {
    const double v = weighted_sum(d, s, orbit_detail::ShiftedSquare{mu}) / o.h;
    return v;
  }
  return fast;
}

// Var_α(log k) = ψ″/4 (spec §4.4); relative error ≤ ~1e-15.
GSA_HD double orbit_variance(double alpha, int64_t d) {
  if (!orbit_domain_ok(alpha, d)) return NAN;
  if (d == 1) return 0.0;
  const double s = 2.0 * alpha;
  return variance_from_sums(orbit_sums(d, s), d, s);
}

// Var by Q/H − μ² only (used inside the Bures-length quadrature; loses ≈ log10((log d)²/Var) digits).
GSA_HD double orbit_variance_fast(double alpha, int64_t d) {
  if (!orbit_domain_ok(alpha, d)) return NAN;
  if (d == 1) return 0.0;
  const OrbitSums o = orbit_sums(d, 2.0 * alpha);
  const double mu = o.l / o.h;
  const double v = o.q / o.h - mu * mu;
  return v > 0.0 ? v : 0.0;
}

// Ent(α) = log H + 2α L/H (21).
GSA_HD double orbit_entropy(double alpha, int64_t d) {
  if (!orbit_domain_ok(alpha, d)) return NAN;
  const double s = 2.0 * alpha;
  const OrbitSums o = orbit_sums(d, s);
  return log1p(o.g) + (o.l == 0.0 ? 0.0 : s * (o.l / o.h));
}

// KL(p(α) ‖ p(β)) (spec §4.4). Closed form (22) ψ(β) − ψ(α) + 2(β−α)μ_α when its rounding error
// estimate is below 1e-14 of the value; otherwise the stable form
// log1p( Σ k^-2α φ(−2(β−α)(log k − μ_α)) / H_α ), whose summands are ≥ 0.
GSA_HD double orbit_kl(double alpha, double beta, int64_t d) {
  using namespace orbit_detail;
  if (!orbit_domain_ok(alpha, d) || !orbit_domain_ok(beta, d)) return NAN;
  if (d == 1 || alpha == beta) return 0.0;
  const double sa = 2.0 * alpha, sb = 2.0 * beta;
  const OrbitSums a = orbit_sums(d, sa);
  const double gb = orbit_sums(d, sb).g;
  const double mu = a.l / a.h;
  const double delta = beta - alpha;
  const double lr = log_h_ratio(gb, a.g);  // log(H_β / H_α)
  const double lin = 2.0 * (delta * mu);
  const double closed = lr + lin;
  const double err = 4.0 * kEps * (1.0 + fabs(lin) + fabs(lr) + fmax(a.g, gb) / a.h);
  const double t = -2.0 * delta;
  const double span = fabs(t) * (mu + log((double)d));
  if (closed > 0.0 && err <= 1e-14 * closed) return closed;
  if (span > 600.0) return closed > 0.0 ? closed : 0.0;  // φ route would overflow; KL is large
  const double S = weighted_sum(d, sa, PhiShift{t, mu});
  return log1p(S / a.h);
}

// 1 − BC(α, β) with BC = Σ_k √(p_k(α) p_k(β)) = H_{α+β} / √(H_{2α} H_{2β}) (F1), stable for
// β → α: −log BC = ½[log1p(E_q φ(Δ(Y−μ))) + log1p(E_q φ(−Δ(Y−μ)))], q = p((α+β)/2), Y = log k.
GSA_HD double orbit_one_minus_bc(double alpha, double beta, int64_t d) {
  using namespace orbit_detail;
  if (!orbit_domain_ok(alpha, d) || !orbit_domain_ok(beta, d)) return NAN;
  if (d == 1 || alpha == beta) return 0.0;
  const double sm = alpha + beta;
  const OrbitSums m = orbit_sums(d, sm);
  const double ga = orbit_sums(d, 2.0 * alpha).g;
  const double gb = orbit_sums(d, 2.0 * beta).g;
  const double la = log_h_ratio(ga, m.g);  // log(H_{2α}/H_{α+β})
  const double lb = log_h_ratio(gb, m.g);
  const double closed = -expm1(-0.5 * (la + lb));
  const double err = 4.0 * kEps * (1.0 + fabs(la) + fabs(lb) + fmax(ga, gb) / m.h);
  const double delta = beta - alpha;
  const double mu = m.l / m.h;
  const double span = fabs(delta) * (mu + log((double)d));
  if ((closed > 0.0 && err <= 1e-14 * closed) || span > 600.0) return closed > 0.0 ? closed : 0.0;
  const double ap = weighted_sum(d, sm, PhiShift{delta, mu}) / m.h;
  const double am = weighted_sum(d, sm, PhiShift{-delta, mu}) / m.h;
  const double stable = -expm1(-0.5 * (log1p(ap) + log1p(am)));
  // The stable sums weight k^-(α+β), which underflows for k ≥ 2 once α + β ≳ 1075 although the
  // φ factors would bring the terms back into range (α = 372, β = 800, d = 2: 1 − BC ≈ 5e-225,
  // stable 0). Distinct points are never at distance 0: keep the closed form then.
  return (stable > 0.0 || !(closed > 0.0)) ? stable : closed;
}

// d_BW(P(α), P(β)) = √(2d(1 − BC)) (F1)/(26).
GSA_HD double orbit_bures_distance(double alpha, double beta, int64_t d) {
  const double omb = orbit_one_minus_bc(alpha, beta, d);
  return sqrt(2.0 * (double)d * omb);
}

// Bures length L_BW between α0 and α1 (29): ∫ √(d Var_α(log k)) dα over [min, max] by 16-point
// Gauss–Legendre on panels of width ≤ min(0.25, 2/log d) (the integrand's complex singularities sit
// ≈ π/(2 log d) off the real axis); the panels stop early once the decaying tail (α ≥ 1.5,
// √Var ~ 2^-α) is below 1e-17 of the accumulated length.
GSA_HD double bures_length(double a0, double a1, int64_t d) {
  if (!orbit_domain_ok(a0, d) || !orbit_domain_ok(a1, d)) return NAN;
  if (d == 1 || a0 == a1) return 0.0;
  double lo = fmin(a0, a1), hi = fmax(a0, a1);
  const orbit_detail::GaussLegendre16 gl{};
  const double* gx = gl.x;
  const double* gw = gl.w;
  const double logd = log((double)d);
  const double hmax = fmin(0.25, 2.0 / logd);
  KahanSum acc;
  double x = lo;
  while (x < hi) {
    const double h = fmin(hmax, hi - x);
    const double mid = x + 0.5 * h, half = 0.5 * h;
    double sp = 0.0;
    for (int i = 0; i < 8; ++i) {
      sp += gw[i] * (sqrt(orbit_variance_fast(mid - half * gx[i], d)) +
                     sqrt(orbit_variance_fast(mid + half * gx[i], d)));
    }
    acc.add(sp * half);
    x += h;
    if (x >= 1.5 && x < hi) {
      const double f = sqrt(orbit_variance_fast(x, d));
      if (f * 2.0 / 0.69 < 1e-17 * acc.value()) break;
    }
  }
  return sqrt((double)d) * acc.value();
}

// Operation codes of the batch kernels (CPU cpp/src/orbit.cpp and CUDA cuda/orbit.cu), exported
// to Python as _core.OrbitUnaryOp / OrbitBinaryOp.
enum OrbitUnaryOp : int {
  kLogPartition = 0,  // ψ = log H_{d,2α}
  kRadial = 1,        // m_d(α)
  kRadialD1 = 2,      // m_d′(α)
  kRadialD2 = 3,      // m_d″(α) = −2 Var
  kVariance = 4,      // Var_α(log k)
  kFisher = 5,        // I = 4 Var
  kEntropy = 6,       // Ent(α)
};

enum OrbitBinaryOp : int {
  kKL = 0,           // KL(p(α) ‖ p(β))
  kBures = 1,        // d_BW(P(α), P(β))
  kBuresLength = 2,  // L_BW[α, β]
};

// One element of a batch: the quantity `op` (an OrbitUnaryOp, checked by the caller) at (α, d).
GSA_HD double orbit_unary_op(int op, double a, int64_t d) {
  switch (op) {
    case kLogPartition: return log_partition(a, d);
    case kRadial: return radial(a, d);
    case kRadialD1: return radial_d1(a, d);
    case kRadialD2: return -2.0 * orbit_variance(a, d);
    case kVariance: return orbit_variance(a, d);
    case kFisher: return 4.0 * orbit_variance(a, d);
    default: return orbit_entropy(a, d);
  }
}

// One element of a batch: the quantity `op` (an OrbitBinaryOp, checked by the caller) at (α, β, d).
GSA_HD double orbit_binary_op(int op, double a, double b, int64_t d) {
  switch (op) {
    case kKL: return orbit_kl(a, b, d);
    case kBures: return orbit_bures_distance(a, b, d);
    default: return bures_length(a, b, d);
  }
}

// orbit_probs (spec §4.1), split so that the CPU loop and the CUDA kernel share both steps:
// 1/H_{d,2α} once per row, then p_k = (k+1)^{-2α}·(1/H) for k = 0..d-1 (k 0-based).
GSA_HD double orbit_probs_inv_h(double alpha, int64_t d) {
  return 1.0 / (1.0 + harmonic_range(2, d, 2.0 * alpha).h);
}

GSA_HD double orbit_prob(int64_t k, double alpha, double inv_h) {
  const double s = 2.0 * alpha;
  return (s == 0.0) ? inv_h : pow((double)(k + 1), -s) * inv_h;
}

}  // namespace math
}  // namespace gsa
