// Per-element helpers for energy measures, tails, entropy and the radial functional (spec §4.2,
// §4.4, §8.1). Header-only, host and device; no allocation, out-of-domain → NaN.
#pragma once

#include <math.h>
#include <stdint.h>

#include "gsa_fast/config.hpp"
#include "gsa_fast/math/compensated.hpp"
#include "gsa_fast/math/pow2.hpp"

namespace gsa {
namespace math {

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

// A singular value the kernels accept: 0 ≤ σ ≤ vmax (the largest finite value of the stored
// type); false for NaN, ±Inf and negatives.
GSA_HD bool valid_sigma(double v, double vmax) { return v >= 0.0 && v <= vmax; }

// The dominant term −p_1 log p_1 of the entropy from the scaled sums top = (σ_1·s)²,
// rest = Σ_{k≥2} (σ_k·s)², tot = top + rest > 0 (ratios clamped to 1 against rounding).
GSA_HD double entropy_dominant(double top, double rest, double tot) {
  const double p = top / tot, r = rest / tot;
  return entropy_term_top(p < 1.0 ? p : 1.0, r < 1.0 ? r : 1.0);
}

// m(P) of a spectrum from the same sums (NaN when σ_1 = 0: m needs λ_1 > 0, spec §2.3).
GSA_HD double radial_from_sums(double d, double top, double rest, double tot) {
  return tot > 0.0 ? radial_from_ratio(d, rest / top) : NAN;
}

}  // namespace math
}  // namespace gsa
