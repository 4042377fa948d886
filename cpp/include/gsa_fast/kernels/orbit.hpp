// CPU kernels for the power-law orbit (spec §4, §5.3): batch loops over math/orbit.hpp.
#pragma once

#include <cstdint>

#include "gsa_fast/math/orbit.hpp"

namespace gsa {
namespace cpu {

// Operation codes: gsa::math::OrbitUnaryOp / OrbitBinaryOp (math/orbit.hpp, shared with CUDA).
// out[i] = op(alpha[i], d[i]) for i < n (contiguous arrays).
void orbit_unary(int op, const double* alpha, const int64_t* d, int64_t n, double* out,
                 int nthreads);

// out[i] = op(a[i], b[i], d[i]) for i < n.
void orbit_binary(int op, const double* a, const double* b, const int64_t* d, int64_t n,
                  double* out, int nthreads);

// out[i*d + k−1] = k^-2α_i / H_{d,2α_i} for i < n, k = 1..d.
void orbit_probs(const double* alpha, int64_t n, int64_t d, double* out, int nthreads);

}  // namespace cpu
}  // namespace gsa
