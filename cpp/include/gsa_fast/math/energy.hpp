// Per-element helpers for energy measures, tails, entropy and the radial functional (spec §4.2,
// §4.4, §8.1). Header-only, host and device; no allocation, out-of-domain → NaN.
#pragma once

#include <math.h>
#include <stdint.h>

#include "gsa_fast/config.hpp"

namespace gsa {
namespace math {

// Neumaier (improved Kahan) compensated addition: (s, c) holds the running sum s + c.
GSA_HD void neumaier_add(double& s, double& c, double y) {
  const double t = s + y;
  c += (fabs(s) >= fabs(y)) ? ((s - t) + y) : ((y - t) + s);
  s = t;
}

// Power of two 2^-e with e the binary exponent of x (x > 0), clamped so that neither the scale
// nor x·scale overflows: squares of x·scale/‖x‖_∞ stay in [0, 4) and keep every ratio exact.
GSA_HD double pow2_scale_for(double x) {
  if (!(x > 0.0) || !(x <= 1.7976931348623157e308)) return 1.0;
  int e = ilogb(x);
  if (e > 1000) e = 1000;
  if (e < -1000) e = -1000;
  return ldexp(1.0, -e);
}

// −p log p with 0 log 0 = 0 (spec §4.4); NaN for p outside [0, 1].
GSA_HD double entropy_term(double p) {
  if (!(p >= 0.0 && p <= 1.0)) return NAN;
  return p > 0.0 ? -p * log(p) : 0.0;
}

// −p log p for the dominant weight p = 1 − rest, from rest = Σ_{k≥2} p_k: log p = log1p(−rest)
// keeps full relative accuracy when p is close to 1 (a nearly rank-one spectrum).
GSA_HD double entropy_term_top(double p, double rest) {
  if (!(p >= 0.0 && p <= 1.0) || !(rest >= 0.0 && rest <= 1.0)) return NAN;
  return p > 0.0 ? -p * log1p(-rest) : 0.0;
}

// m(P) = ½ log d − ½ log1p(R), R = Σ_{k≥2} λ_k/λ_1 (spec §4.2 stable residual form).
// NaN for d < 1 or R < 0 or NaN.
GSA_HD double radial_from_ratio(double d, double R) {
  if (!(d >= 1.0) || !(R >= 0.0)) return NAN;
  return 0.5 * log(d) - 0.5 * log1p(R);
}

}  // namespace math
}  // namespace gsa
