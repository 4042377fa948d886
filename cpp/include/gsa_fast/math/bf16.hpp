// Half-precision storage formats → float/double, bit-exact, usable on host and device (GSA_HD).
// bfloat16: the top 16 bits of an IEEE binary32 (8 exponent bits, 7 mantissa bits).
// float16 : IEEE binary16 (5 exponent bits, 10 mantissa bits), subnormals, ±Inf and NaN kept.
// Both conversions are exact (every half value is a float), so nothing here rounds.
#pragma once

#include <stdint.h>
#include <string.h>

#include "gsa_fast/config.hpp"

namespace gsa {
namespace math {

GSA_HD float bits_to_float(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

// bfloat16 bits → float (exact).
GSA_HD float bf16_to_float(uint16_t h) { return bits_to_float((uint32_t)h << 16); }

// IEEE binary16 bits → float (exact, including subnormals, ±0, ±Inf and NaN payloads).
GSA_HD float f16_to_float(uint16_t h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0x1fu) return bits_to_float(sign | 0x7f800000u | (mant << 13));
  if (exp == 0) {
    // zero or subnormal: mant · 2^-24, exact in float
    const float v = (float)mant * 5.9604644775390625e-08f;
    return (h & 0x8000u) ? -v : v;
  }
  return bits_to_float(sign | ((exp + 112u) << 23) | (mant << 13));
}

GSA_HD double bf16_to_double(uint16_t h) { return (double)bf16_to_float(h); }
GSA_HD double f16_to_double(uint16_t h) { return (double)f16_to_float(h); }

}  // namespace math
}  // namespace gsa
