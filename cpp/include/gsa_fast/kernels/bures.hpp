// CPU kernels for Bures–Wasserstein distances (spec §5.1–§5.2).
//
// Inputs are strided stacks (any byte strides, stride 0 for broadcast dimensions), float32 or
// float64: each matrix is converted to float64 in its worker's own workspace, so neither a
// non-contiguous view nor a broadcast ever causes a copy of the whole batch. Batch index i runs
// over the C-order flattening of batch_shape[0..nb).
//
// Errors in the data (NaN/Inf, asymmetry, indefiniteness) are not exceptions: each failing batch
// element gets a NaN result, and the kernel reports the failure of the lowest batch index as the
// one Status (status.hpp: code, index = batch element, position = operand 0 or 1), which
// gsa_fast._status.raise_status turns into the ValueError naming the argument and batch index.
#pragma once

#include <cstdint>

#include "gsa_fast/status.hpp"

namespace gsa {
namespace cpu {

struct Stack {
  const void* data;        // first element
  bool f32;                // float32 (else float64)
  const int64_t* strides;  // byte strides: nb batch dims, then the trailing (matrix / vector) dims
};

// Per-pair result inside the kernels (not exported); to_status() maps it to the one Status.
enum BuresStatus : int8_t {
  kBuresOk = 0,
  kBuresNonFinite1 = 1,  // first operand (P, A, a, lam_p) has NaN/Inf
  kBuresNonSym1 = 2,     // first operand not symmetric within sym_rtol
  kBuresNeg1 = 3,        // first operand has an eigenvalue / entry below −psd_rtol·max|·|
  kBuresNonFinite2 = 4,  // same for the second operand
  kBuresNonSym2 = 5,
  kBuresNeg2 = 6,
  kBuresLapack = 7,  // LAPACK reported failure (no convergence)
};

// Route (a): F = ‖P^{1/2}Q^{1/2}‖_* from the eigendecompositions (dsyevd) of the symmetrized P
// and Q with clipped eigenvalues, computed as ‖D_P^{1/2} V_Pᵀ V_Q D_Q^{1/2}‖_* (dgemm + dgesdd
// jobz='N', zero eigenvalues dropped); d = sqrt(max(0, trP + trQ − 2F)). Matrices are n×n.
// A matrix is rejected when max|X − Xᵀ| > sym_rtol·max|X|, or when λ_min < −psd_rtol·max|λ|.
// out_dist / out_fid may be null.
void bures_general(Stack P, Stack Q, int nb, const int64_t* batch_shape, int64_t n,
                   double sym_rtol_p, double psd_rtol_p, double sym_rtol_q, double psd_rtol_q,
                   double* out_dist, double* out_fid, Status* status, int nthreads);

// Route (b): P = AᵀA, Q = BᵀB with A a_rows×n and B b_rows×n;
// d² = ‖A‖_F² + ‖B‖_F² − 2‖B Aᵀ‖_* (dgemm + dgesdd jobz='N'). Only finiteness is checked.
void bures_factors(Stack A, int64_t a_rows, Stack B, int64_t b_rows, int nb,
                   const int64_t* batch_shape, int64_t n, double* out_dist, Status* status,
                   int nthreads);

// Routes (c)/(d): ‖√a − √b‖₂ over vectors of length n; with sort_desc both vectors are first
// sorted descending (Cartan level). Entries below −neg_rtol·max|·| are errors; entries between
// that and 0 are clipped to 0.
void bures_diag(Stack a, Stack b, int nb, const int64_t* batch_shape, int64_t n, bool sort_desc,
                double neg_rtol_a, double neg_rtol_b, double* out, Status* status, int nthreads);

}  // namespace cpu
}  // namespace gsa
