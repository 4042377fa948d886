// Eigenvalues of one large symmetric matrix by a two-stage reduction whose first stage runs on
// gsa_fast's own workers (CPU).
//
// LAPACK's dsytrd_sy2sb (dense → band) threads poorly through OpenBLAS (1.5× on 2 threads) and
// collapses when a core is taken (its level-3 jobs wait on each other). Here the dense → band
// reduction is written out: per panel of kd columns a QR (dgeqrf + dlarft), then the two-sided
// update A22 ← QᵀA22Q as W = A22·V·T − ½·V·(Tᵀ·Vᵀ·A22·V·T) and A22 −= V·Wᵀ + W·Vᵀ, both over
// tiles of the lower triangle handed out dynamically to the workers (single-threaded BLAS per
// tile); the next panel's QR runs on one worker while the others finish the update (look-ahead).
// The band then goes to LAPACK's band → tridiagonal bulge chasing — dsytrd_sb2st itself on one
// thread, or its kernels pipelined over two threads (odd and even sweeps) — and dsterf.
#pragma once

#include <cstdint>

namespace gsa {
namespace cpu {

// Band width of the first stage (measured at n = 4096: 64 beats 32; 128 and 256 make
// dsytrd_sb2st 13–17× slower).
constexpr int kBandWidth = 64;

// Eigenvalues, ascending, of the symmetric n×n A (column-major, leading dimension lda, lower
// triangle read; A is destroyed) into w[0..n). `threads` workers; OpenBLAS must be at one thread.
// Returns 0, or the info of the LAPACK routine that failed.
int band_eigvalues(int64_t n, double* A, int64_t lda, int threads, double* w);
// The same with band width kd (1 ≤ kd ≤ 512; clipped to n − 1): for measurements
// (bench/stages_q1024.cpp compares widths at q = 1024).
int band_eigvalues_kd(int64_t n, double* A, int64_t lda, int threads, double* w, int kd);
// Eigenvalues, ascending, of the symmetric band matrix given in LAPACK lower band storage
// (column-major, AB[r + j·ldab] = A(j + r, j) for 0 ≤ r ≤ kd, ldab ≥ kd + 1; rows r ≥ n − j are not
// read; AB is read only) into w[0..n): the second and third stages of band_eigvalues (bulge
// chasing with up to `threads` sweeps at once, at most 16; band_eigvalues itself uses ≤ 2), then
// dsterf; d and e, and so w, are bitwise the same for every thread count. Any kd ≥ 0 (clipped to n − 1). The first stage
// may have run elsewhere (the GPU two-stage route of svdvals). Returns 0 or dsterf's info.
int band_storage_eigvalues(int64_t n, int kd, const double* AB, int64_t ldab, int threads,
                           double* w);

}  // namespace cpu
}  // namespace gsa
