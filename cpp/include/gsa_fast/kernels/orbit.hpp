// CPU kernels for the power-law orbit (spec §4, §5.3): batch loops over math/orbit.hpp.
#pragma once

#include <cstdint>

namespace gsa {
namespace cpu {

// Per-(α, d) quantities selected by `op`.
enum OrbitUnaryOp : int {
  kLogPartition = 0,  // ψ = log H_{d,2α}
  kRadial = 1,        // m_d(α)
  kRadialD1 = 2,      // m_d′(α)
  kRadialD2 = 3,      // m_d″(α) = −2 Var
  kVariance = 4,      // Var_α(log k)
  kFisher = 5,        // I = 4 Var
  kEntropy = 6,       // Ent(α)
};

// Per-(α, β, d) quantities selected by `op`.
enum OrbitBinaryOp : int {
  kKL = 0,           // KL(p(α) ‖ p(β))
  kBures = 1,        // d_BW(P(α), P(β))
  kBuresLength = 2,  // L_BW[α, β]
};

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
