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

// Route (c): d_BW(diag a, diag b) = ‖√a − √b‖₂ over n entries read with element strides sa, sb.
// Entries must be ≥ 0 (negatives give NaN). One plain pass Σ t²; only when that overflows or
// may have underflowed does a second, scaled pass (dlassq style) run. Accuracy: a few ulps
// relative per term, so ~1e-15 relative overall (hence ≤ ~1e-15·√(tr a + tr b) absolute).
template <class T>
GSA_HD double bures_diag(const T* a, int64_t sa, const T* b, int64_t sb, int64_t n) {
  double s = 0.0;
  for (int64_t k = 0; k < n; ++k) {
    const double t = sqrt_diff((double)a[k * sa], (double)b[k * sb]);
    s += t * t;
  }
  if (s != s) return NAN;
  if (s <= 1e300 && (s >= 1e-280 || s == 0.0)) return ::sqrt(s);
  ScaledSsq acc = ssq_init();
  for (int64_t k = 0; k < n; ++k) ssq_add(acc, sqrt_diff((double)a[k * sa], (double)b[k * sb]));
  return ssq_norm(acc);
}

}  // namespace math
}  // namespace gsa
