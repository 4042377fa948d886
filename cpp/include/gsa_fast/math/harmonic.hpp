// Generalized harmonic numbers and log-weighted sums (spec §3).
//
//   H_{d,s} = Σ_{k≤d} k^-s,  L_{d,s} = Σ k^-s log k,  Q_{d,s} = Σ k^-s (log k)^2
//
// Evaluation (spec §3.3): ranges of at most 4N terms (N = 64) are summed directly with
// Neumaier compensation; longer ranges sum their first N terms directly and the rest by
// Euler–Maclaurin with three Bernoulli corrections, whose integral term is formed as
// e^{ta}·Σ C(j,i) a^{j-i} E_i(t,D) so that s → 1 loses nothing. Relative error is a few ulp
// for every s ≥ 0 and d ≤ 1e15 (tests/test_sums.py checks 1e-13 against mpmath).
//
// Header-only, __host__ __device__: the CPU kernels and the CUDA kernels call these same
// functions. No exceptions, no allocation; out-of-domain input gives NaN.
#pragma once

#include <math.h>
#include <stdint.h>

#include "gsa_fast/config.hpp"

namespace gsa {
namespace math {

struct Sums3 {
  double h;  // Σ k^-s
  double l;  // Σ k^-s log k
  double q;  // Σ k^-s (log k)^2
};

// Neumaier-compensated accumulator.
struct KahanSum {
  double s = 0.0, c = 0.0;
  GSA_HD void add(double x) {
    double t = s + x;
    if (fabs(s) >= fabs(x)) {
      c += (s - t) + x;
    } else {
      c += (x - t) + s;
    }
    s = t;
  }
  GSA_HD double value() const { return s + c; }
};

constexpr int64_t kHeadTerms = 64;  // N of spec §3.3

// Direct sum of f_j(k) = k^-s (log k)^j, j = 0,1,2, for k = a..b (a ≥ 1). Ascending k.
GSA_HD Sums3 direct_range(int64_t a, int64_t b, double s) {
  KahanSum h, l, q;
  for (int64_t k = a; k <= b; ++k) {
    const double x = (double)k;
    const double u = log(x);
    const double w = (s == 0.0) ? 1.0 : exp(-s * u);
    h.add(w);
    l.add(w * u);
    q.add(w * u * u);
  }
  return {h.value(), l.value(), q.value()};
}

// E_i(t, D) = ∫_0^D v^i e^{tv} dv for i = 0,1,2 (spec §3.3), cancellation-free.
GSA_HD void em_integral_parts(double t, double D, double E[3]) {
  const double x = t * D;
  if (fabs(x) < 1.0) {
    // E_i = Σ_n t^n D^{n+i+1} / (n! (n+i+1))
    double term = 1.0;  // (tD)^n / n!
    double e0 = 0.0, e1 = 0.0, e2 = 0.0;
    for (int n = 0; n < 40; ++n) {
      e0 += term / (n + 1);
      e1 += term / (n + 2);
      e2 += term / (n + 3);
      term *= x / (n + 1);
      if (fabs(term) < 1e-19) break;
    }
    E[0] = e0 * D;
    E[1] = e1 * D * D;
    E[2] = e2 * D * D * D;
  } else {
    const double etd = exp(x);
    E[0] = expm1(x) / t;
    E[1] = (D * etd - E[0]) / t;
    E[2] = (D * D * etd - 2.0 * E[1]) / t;
  }
}

// Odd derivatives f_j^{(1)}, f_j^{(3)}, f_j^{(5)} at x, for j = 0,1,2, of f_j = x^-s (log x)^j.
// A derivative of x^{-t} Σ c_i u^i (u = log x) is x^{-t-1} Σ_i ((i+1) c_{i+1} − t c_i) u^i.
GSA_HD void em_odd_derivatives(double x, double s, double out[3][3]) {
  const double u = log(x);
  for (int j = 0; j < 3; ++j) {
    double c[3] = {0.0, 0.0, 0.0};
    c[j] = 1.0;
    double t = s;
    int slot = 0;
    for (int n = 1; n <= 5; ++n) {
      double nc[3];
      for (int i = 0; i < 3; ++i) nc[i] = (i < 2 ? (i + 1) * c[i + 1] : 0.0) - t * c[i];
      c[0] = nc[0];
      c[1] = nc[1];
      c[2] = nc[2];
      t += 1.0;
      if (n % 2 == 1) {
        out[slot][j] = exp(-t * u) * (c[0] + u * (c[1] + u * c[2]));
        ++slot;
      }
    }
  }
}

// Σ_{k=a}^{b} f_j(k) by Euler–Maclaurin on [a, b] (requires a ≥ kHeadTerms, b > a).
GSA_HD Sums3 em_range(int64_t a, int64_t b, double s) {
  const double xa = (double)a, xb = (double)b;
  const double la = log(xa);
  // Past s·log a > 745 every term underflows (and the derivative coefficients ~s^5 would
  // overflow into inf·0): the range contributes exactly 0 in float64.
  if (s * la > 745.2) return {0.0, 0.0, 0.0};
  // D = log(b/a) from the exact integer difference: log b − log a loses digits when a range is
  // short compared with where it starts (a ≈ 1e15, b − a ≈ 1e9).
  const double D = log1p((double)(b - a) / xa);
  const double t = 1.0 - s;
  double E[3];
  em_integral_parts(t, D, E);
  const double scale = exp(t * la);
  // ∫ x^-s (log x)^j = e^{ta} Σ_i C(j,i) a^{j-i} E_i
  const double I0 = scale * E[0];
  const double I1 = scale * (la * E[0] + E[1]);
  const double I2 = scale * (la * la * E[0] + 2.0 * la * E[1] + E[2]);
  // Endpoint values.
  const double lb = la + D;
  const double fa = exp(-s * la), fb = exp(-s * lb);
  double S[3];
  S[0] = I0 + 0.5 * (fa + fb);
  S[1] = I1 + 0.5 * (fa * la + fb * lb);
  S[2] = I2 + 0.5 * (fa * la * la + fb * lb * lb);
  // Bernoulli corrections B_{2i}/(2i)! [f^{(2i-1)}(b) − f^{(2i-1)}(a)]
  const double coef[3] = {1.0 / 12.0, -1.0 / 720.0, 1.0 / 30240.0};
  double da[3][3], db[3][3];
  em_odd_derivatives(xa, s, da);
  em_odd_derivatives(xb, s, db);
  for (int j = 0; j < 3; ++j) {
    double corr = 0.0;
    for (int i = 2; i >= 0; --i) corr += coef[i] * (db[i][j] - da[i][j]);
    S[j] += corr;
  }
  return {S[0], S[1], S[2]};
}

// Σ_{k=a}^{b} k^-s (log k)^j for j = 0,1,2; empty range (b < a) gives zeros.
GSA_HD Sums3 harmonic_range(int64_t a, int64_t b, double s) {
  if (a < 1) a = 1;
  if (b < a) return {0.0, 0.0, 0.0};
  if (b - a < 4 * kHeadTerms) return direct_range(a, b, s);
  const int64_t m = (a > kHeadTerms ? a : kHeadTerms);
  // Direct head a..m+N-1 keeps the Euler–Maclaurin start point ≥ 2N.
  const int64_t head_end = m + kHeadTerms - 1;
  Sums3 head = direct_range(a, head_end, s);
  Sums3 tail = em_range(head_end + 1, b, s);
  return {head.h + tail.h, head.l + tail.l, head.q + tail.q};
}

// H_{d,s}, L_{d,s}, Q_{d,s} (spec §3.1); H_{0,s} = 0.
GSA_HD Sums3 harmonic_sums(int64_t d, double s) { return harmonic_range(1, d, s); }

}  // namespace math
}  // namespace gsa
