// Bures–Wasserstein distance for commuting (diagonal) and Cartan-level inputs, spec §5.2 (c)–(d).
// Header-only, GSA_HD: usable from C++ kernels and CUDA device code. No allocation, no exceptions.
#pragma once

#include <math.h>

#include <cstdint>

#include "gsa_fast/config.hpp"

namespace gsa {
namespace math {

// √a − √b for a, b ≥ 0, written as (a − b)/(√a + √b): a − b is exact when a ≈ b (Sterbenz), so
// the result has a few ulps of *relative* error even when √a and √b nearly cancel. NaN for
// negative or NaN inputs.
GSA_HD double sqrt_diff(double a, double b) {
  if (!(a >= 0.0) || !(b >= 0.0)) return NAN;
  const double ra = ::sqrt(a), rb = ::sqrt(b);
  const double s = ra + rb;
  if (s == 0.0) return 0.0;
  if (isinf(s)) return ra - rb;  // a or b = +Inf: the difference form would give Inf/Inf
  return (a - b) / s;
}

// Scaled sum of squares (LAPACK dlassq style): the running value is scale²·ssq, so that the
// Euclidean norm neither overflows nor underflows for any finite terms.
struct ScaledSsq {
  double scale;
  double ssq;
};

GSA_HD ScaledSsq ssq_init() { return ScaledSsq{0.0, 1.0}; }

GSA_HD void ssq_add(ScaledSsq& acc, double x) {
  const double ax = fabs(x);
  if (ax == 0.0) return;
  if (acc.scale < ax) {
    const double r = acc.scale / ax;
    acc.ssq = 1.0 + acc.ssq * r * r;
    acc.scale = ax;
  } else {
    const double r = ax / acc.scale;
    acc.ssq += r * r;
  }
}

GSA_HD double ssq_norm(const ScaledSsq& acc) { return acc.scale * ::sqrt(acc.ssq); }

// Power-of-two exponent e bringing max|X| near 1 when absmax lies outside [lo, hi] (0 otherwise,
// so ordinary input is untouched); even when `even` (the matrix route: √λ then scales by 2^(e/2)).
// X·2^e is exact and the Bures quantities are homogeneous (√λ scales by 2^(e/2), tr and F by
// 2^e), so subnormal or huge inputs keep their precision (at 1e-320 the unscaled trP + trQ − 2F
// is a sum of subnormals: 1e-4 relative). Shared by the CPU kernels and cuda/bures.cu.
GSA_HD int scale_exponent(double absmax, double lo, double hi, bool even) {
  if (!(absmax > 0.0) || (absmax >= lo && absmax <= hi)) return 0;
  int e = 0;
  ::frexp(absmax, &e);
  e = -e < 1022 ? -e : 1022;
  return even ? e - (e & 1) : e;
}

// The fidelity F of a pair computed from operands scaled by 2^ep and 2^eq (F carries
// 2^((ep+eq)/2); ep + eq is even in both routes), back in the input's units.
GSA_HD double unscaled_fidelity(double f, int ep, int eq) { return ::ldexp(f, -((ep + eq) / 2)); }

// d = sqrt(max(0, trP + trQ − 2F)) from trP (carrying 2^ep), trQ (2^eq) and F (2^((ep+eq)/2)),
// all even exponents: the three terms are combined in the common unit 2^e, e = min(ep, eq) (the
// larger operand's scale; the smaller one's terms may underflow there, as they are negligible).
// Route (b) passes the factors' squared norms and exponents 2·e_A, 2·e_B.
GSA_HD double scaled_distance(double trp, int ep, double trq, int eq, double f) {
  const int e = ep < eq ? ep : eq, ef = (ep + eq) / 2;
  const double d2 = ::ldexp(trp, e - ep) + ::ldexp(trq, e - eq) - 2.0 * ::ldexp(f, e - ef);
  return ::ldexp(::sqrt(d2 > 0.0 ? d2 : 0.0), -e / 2);
}

// Route (c): d_BW(diag a, diag b) = ‖√a − √b‖₂ over n entries read with element strides sa, sb.
// Entries must be ≥ 0 (negatives give NaN). One plain pass Σ t²; only when that overflows or
// may have underflowed does a second, scaled pass (dlassq style) run. Accuracy: a few ulps
// relative per term, so ~1e-15 relative overall (hence ≤ ~1e-15·√(tr a + tr b) absolute).
// Whether a plain Σ t² can be returned as it is: neither overflowed nor possibly underflowed.
// s = 0 qualifies only when every t is 0: a nonzero t below ~2^-537 (√a − √b of a near-tie at
// 1e-300, ~1e-166) squares to 0, and returning √0 would report two distinct vectors as equal.
GSA_HD bool plain_ssq_ok(double s, bool any_nonzero) {
  return s <= 1e300 && (s >= 1e-280 || (s == 0.0 && !any_nonzero));
}

template <class T>
GSA_HD double bures_diag(const T* a, int64_t sa, const T* b, int64_t sb, int64_t n) {
  double s = 0.0;
  bool nz = false;
  for (int64_t k = 0; k < n; ++k) {
    const double t = sqrt_diff((double)a[k * sa], (double)b[k * sb]);
    s += t * t;
    nz |= (t != 0.0);
  }
  if (s != s) return NAN;
  if (plain_ssq_ok(s, nz)) return ::sqrt(s);
  ScaledSsq acc = ssq_init();
  for (int64_t k = 0; k < n; ++k) ssq_add(acc, sqrt_diff((double)a[k * sa], (double)b[k * sb]));
  return ssq_norm(acc);
}

}  // namespace math
}  // namespace gsa
