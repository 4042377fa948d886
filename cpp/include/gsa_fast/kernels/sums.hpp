// CPU kernels for the generalized harmonic sums (spec §3).
#pragma once

#include <cstdint>

namespace gsa {
namespace cpu {

// For i in [0, n): Σ_{k=a[i]}^{b[i]} k^-s[i] (log k)^j for j = 0,1,2, written to out_h, out_l,
// out_q (each may be null to skip). a, b, s are contiguous arrays of length n.
void harmonic_range(const int64_t* a, const int64_t* b, const double* s, int64_t n,
                    double* out_h, double* out_l, double* out_q, int nthreads);

}  // namespace cpu
}  // namespace gsa
