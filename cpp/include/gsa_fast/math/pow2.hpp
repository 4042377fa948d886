// The one power-of-two scaler (issue 7): host and device, used by the spectra kernels (before
// LAPACK), the energy kernels and the CUDA truncation ranks.
#pragma once

#include <math.h>

#include "gsa_fast/config.hpp"

namespace gsa {
namespace math {

// Power-of-two scale bringing x (= max|s|) to [0.5, 1): exact, and 1 for zero, negative, NaN or
// Inf input. Capped at 2^1022, the largest power of two whose square root of the reciprocal is
// still normal: subnormal input (x < 2^-1022) then lands in [2^-53, 1) — still exact, as scaling
// by a power of two is exact whenever the result is normal — instead of an infinite scale and
// NaN everywhere. Squares of scaled values stay in [0, 1), so ratios of them are exact.
// Undo it by dividing twice (y / s / s), never by s²: s² over- or underflows at the ends.
GSA_HD double pow2_scale(double x) {
  if (!(x > 0.0) || !(x <= 1.7976931348623157e308)) return 1.0;
  const int e = ilogb(x) + 1;  // x = f·2^e with f in [0.5, 1) (frexp's exponent)
  return ldexp(1.0, -e < 1022 ? -e : 1022);
}

}  // namespace math
}  // namespace gsa
