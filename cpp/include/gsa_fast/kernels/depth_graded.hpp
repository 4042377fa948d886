// CPU kernels for the exact log spectra of prefix products in row-graded QR form, the DLN
// metric-operator eigenvalues and the effective rank (depth-math spec §4.3(b), §8.3, §8.6).
// Kept apart from kernels/depth.hpp (the chain scan) so the two evolve independently.
#pragma once

#include <cstdint>

#include "gsa_fast/kernels/depth.hpp"

namespace gsa {
namespace cpu {

// Exact log singular values of prefix products M_{1:l} (§4.3(b)), full frame, float64, for B
// independent chains of L factors (f[b·L + l] = M_{l+1} of chain b):
//   Q_l R_l = qr(M_l Q_{l−1}) (Householder), c_l = c_{l−1} + log|diag R_l| (Benettin sums),
//   T̂_l = diag(e^{−c_l}) R_l diag(e^{c_{l−1}}) T̂_{l−1}, T̂_0 = I, so M_{1:l} = Q_l diag(e^{c_l}) T̂_l.
// The frame starts at n_0 columns and narrows to min(frame, n_l) and at the first column with
// |R_jj| ≤ tau·‖M_l Q_{l−1}‖_F (§4.2; later values are −∞). At each l with take[l] != 0:
// T̂_lᵀ = Q̃R̃ (dgeqrf), the indices are cut into blocks wherever the Benettin sums are separated
// by more than 40 (min of c before the cut − max after) and further, at the largest separation,
// while a block spans more than 600 in c; each block's R̃ diag(e^{c − max c}) goes through the
// one-sided Jacobi SVD (dgesvj, relatively accurate for column-graded input), max c added back.
// A block of one index is the strong-grading limit log s_i = c_i + log|R̃_ii|. The error of a cut
// with separation g is O(e^{−2g}) relative; resolved = 0 where a neighbouring cut has g < ½ log 1e6,
// the Jacobi SVD did not converge, or Σ_{m≤l} u·κ₁(R_m) (dtrcon; the float64 products M_m·Q
// perturb each factor by ~u‖M_m‖, i.e. up to u·κ(M_m) in the small values) exceeds 1e-6. out / resolved: [b, slot, 0..k) (slots in the order of the
// flagged l), k largest values descending.
void prefix_log_graded(const FactorRef* f, int64_t B, int64_t L, const uint8_t* take, int64_t k,
                       double tau, double* out, uint8_t* resolved, int nthreads);

// The host step of the device route of §4.3(b) (python/gsa_fast/_gpu_depth_matrix.py): the same
// block cuts and Jacobi SVDs as prefix_log_graded from the w × w triangle R̃ of T̂ᵀ = Q̃R̃
// (row-major, upper triangle read; the QR ran on the device) and the Benettin sums c (w): the k
// largest log singular values of diag(e^c) T̂, descending, into out, and the cut/convergence
// flags into flags (the caller applies the accumulated error estimate); −∞ and 1 past w.
void graded_triangle_values(const double* R, int64_t w, const double* c, int64_t k, double* out,
                            uint8_t* flags);

// λ_kl of 𝒜_{N,X} (§8.3), stable form (math/dln.hpp): out[r, i, j] = λ(sk[r, i], sl[r, j]) for
// rows r < n_rows, i < m, j < n; inv_n = 1/N (0: the N = ∞ log-mean Λ).
void dln_lambda_matrix(const double* sk, const double* sl, int64_t n_rows, int64_t m, int64_t n,
                       double inv_n, double* out, int nthreads);

// Effective rank (§8.6) of n spectra values[starts[i] .. starts[i] + lengths[i]) (σ ≥ 0 checked by
// the caller), stable form σ̂ = σ/σ_max with compensated sums; NaN for an all-zero or empty one.
template <class T>
void effective_rank(const T* values, const int64_t* starts, const int64_t* lengths, int64_t n,
                    double* out, int nthreads);

}  // namespace cpu
}  // namespace gsa
