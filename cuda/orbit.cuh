// CUDA launchers for the power-law orbit functions (device pointers in and out).
#pragma once

#include <cstdint>

namespace gsa {
namespace cuda {

// out[i] = math::orbit_unary_op(op, alpha[i], d[i]) for i < n: one thread per (α, d) pair, the
// arithmetic of gsa_fast/math/orbit.hpp that the CPU kernel runs. op: an OrbitUnaryOp, checked
// here (cudaErrorInvalidValue otherwise). Returns a cudaError_t as int.
int orbit_unary(int op, const double* alpha, const int64_t* d, int64_t n, double* out,
                uintptr_t stream);

// out[i] = math::orbit_binary_op(op, a[i], b[i], d[i]) for i < n (an OrbitBinaryOp).
int orbit_binary(int op, const double* a, const double* b, const int64_t* d, int64_t n,
                 double* out, uintptr_t stream);

// out[i·d + k] = p_{k+1}(alpha[i]) for i < n, k < d (orbit_probs, spec §4.1; row-major, as the
// CPU kernel lays it out): math::orbit_probs_inv_h once per row, math::orbit_prob per entry.
int orbit_probs(const double* alpha, int64_t n, int64_t d, double* out, uintptr_t stream);

}  // namespace cuda
}  // namespace gsa
