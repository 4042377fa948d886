// CPU kernels for depth spectra (depth-math spec §4, §7.1, §8.5).
//
// Factors are read in place: a FactorRef is one matrix with element strides, float32 or float64.
// When one stride is 1 and the dtype matches the panel, BLAS reads the factor directly; otherwise
// the factor is converted block by block (a few hundred kB at a time) into the worker's
// workspace, so no whole factor is ever copied. Every factor is read exactly once.
#pragma once

#include <cstdint>

namespace gsa {
namespace cpu {

struct FactorRef {
  const void* data;  // element (0, 0)
  int64_t rows, cols;
  int64_t rs, cs;  // element strides of rows and columns
  bool f32;        // float32 (else float64)
};

// Benettin/QR prefix scan (§4.1, §4.2) of B independent chains of L factors each
// (f[b·L + l] is M_{l+1} of chain b; rows of M_l = cols of M_{l+1}). Q_0 = [e_1 … e_k];
// Y = D_l M_l Q_{l−1} (gemm, float32 when panel_f32, else float64), Q_l R_l = qr(Y) (CholeskyQR
// with a deferred solve, one or two passes; Householder for ill-conditioned panels; float64),
// out[b, l, j] = Σ_{m≤l} log|R_m[j, j]|. One chain runs on a team of up to nthreads workers
// (rows split in fixed chunks, depth_scan.inl); the result is bitwise the same for any nthreads.
// gates[b·L + l]: null or a 0/1 byte per row of M_l. Columns j ≥ (min gate rank so far) and columns
// from the first j with |R_jj| ≤ tau·‖Y‖_F on are −∞ from that layer on (rank never recovers).
void chain_scan(const FactorRef* f, const uint8_t* const* gates, int64_t B, int64_t L, int64_t k,
                bool panel_f32, double tau, double* out, int nthreads);

// Exact log singular values of prefix products by the rescaled direct product (§4.3a), float64:
// P̂_l = M_l P̂_{l−1}/‖M_l P̂_{l−1}‖_F, a_l = a_{l−1} + log‖·‖_F; at each l with take[l] != 0 the
// k largest log s_i(M_{1:l}) = a_l + log s_i(P̂_l) are written to out[b, slot, :] (slots in the
// order of the flagged l). Zero products give −∞.
void prefix_log_svdvals(const FactorRef* f, int64_t B, int64_t L, const uint8_t* take,
                        int64_t k, double* out, int nthreads);

// Top-k singular-subspace alignment (§7.1) of pairs (A_i, B_i), i < n_pairs, both m-row matrices.
// U_A, U_B: top-k left singular vectors (dgesdd on a float64 copy). O = U_Aᵀ U_B; column j of
// U_B is flipped where O_jj < 0, giving R (k×k, row-major, diag ≥ 0) in out_r; principal angles
// θ_j ascending in out_angles = atan2(sin θ_j, cos θ_j) with cos θ = s(O) and sin θ = s(U_B − U_A O);
// out_rho = diagonal correlation ρ of |R| with block size k (§7.3). status[i] = 0 ok, 1 non-finite
// input, 2 LAPACK failure (outputs NaN).
void subspace_alignment(const FactorRef* a, const FactorRef* b, int64_t n_pairs, int64_t k,
                        double* out_r, double* out_angles, double* out_rho, int8_t* status,
                        int nthreads);

// Entropic log-volume (§8.5): for each row of sigma (n_rows × d, float64, σ ≥ 0 checked by the
// caller), out_s[r] = ½ Σ_{j<k} log λ_jk (inv_n = 1/N; 0 for S_∞), compensated summation; when
// out_grad is not null, out_grad[r, i] = ∂S/∂σ_i (+∞ where σ_i = 0 and d ≥ 2).
void dln_log_volume(const double* sigma, int64_t n_rows, int64_t d, double inv_n, double* out_s,
                    double* out_grad, int nthreads);

}  // namespace cpu
}  // namespace gsa
