// CPU kernel for operator norms of products ‖XY‖ (spec §2.2, §7.1): block Krylov (Lanczos) on
// (XY)ᵀ(XY) applied through the factors, never forming XY, with a dense fallback.
#pragma once

#include <cstdint>

namespace gsa {
namespace cpu {

// One pair: X is m×k, Y is k×n, both C-contiguous (row-major) of the same element type.
// y == nullptr stands for the identity (n = k): the entry is then ‖X‖ itself.
template <class T>
struct ProductPair {
  const T* x;
  const T* y;
  int64_t m, k, n;
  // Internal: the kernels evaluate ‖(2^-ex X)(2^-ey Y)‖ and multiply by 2^(ex+ey), with ex, ey
  // set from max|X|, max|Y| (one read each), so that no intermediate of the Krylov operator
  // (‖X‖²‖Y‖², …) or of the formed product over- or underflows; callers leave them 0.
  int ex = 0, ey = 0;
};

// out[i] = ‖X_i Y_i‖ (float64). info[i] = number of passes over the factors by the Krylov route
// (each pass reads Y twice and X once), or 0 when the dense route (form XY in float64, LAPACK
// dgesdd) answered. Arithmetic is float64 throughout; float32 factors are widened tile by tile
// and never copied whole. tol: stopping tolerance on the Ritz residual, relative to λ = ‖XY‖².
// Pairs run in parallel on the worker pool when there are several; a single large pair spreads
// its tiles over the workers. OpenBLAS runs single-threaded inside. fro (optional, may be
// null): fro[i] = ‖X_i‖_F in float64 (the chain's Frobenius normalization, read in the same call).
template <class T>
void product_norm(const ProductPair<T>* pairs, int64_t npairs, double* out, int64_t* info,
                  double* fro, double tol, int nthreads);

// One factor of a chain: A (m×n, C-contiguous).
template <class T>
struct ChainFactor {
  const T* a;
  int64_t m, n;
};

// The norms of a chain in lockstep (spec §7.1): norm[l] = ‖A_l‖ where want_norm[l], and
// prod[l] = ‖A_{l+1} A_l‖ where want_prod[l] (l < L−1; the caller guarantees
// fs[l+1].n == fs[l].m there). Every wanted problem is the block Krylov iteration of
// product_norm (same start block, stopping rule and dense route), but all of them advance
// together. One iteration reads each factor twice, in three parallel phases: U (over factor
// pairs, ascending inside a pair) applies at A_l its norm's Gram step, the first stage A_l V of
// product (l, l+1) and, for odd l, the middle stage A_lᵀA_l(·) of product (l−1, l); B (even l)
// and C (odd l) apply the norm's second Gram step, the last stage A_lᵀ(·) of product (l, l+1)
// and, in B, the middle stage of product (l−1, l). Every right-hand side that needs A_l in a
// phase is applied in ONE read (float32 tile widened once, float64 accumulation). A product
// takes one Krylov step per iteration, a norm two;
// converged problems drop out. Row chunks are fixed (not tied to the thread count), so the
// results do not depend on nthreads. norm_info/prod_info: passes (0 = dense route);
// fro (optional): ‖A_l‖_F, summed in the first up-sweep; reads[l]: how many times this call
// streamed A_l (dense-route problems count one read per factor). block: Krylov block size
// (0 = the default).
template <class T>
void chain_norms(const ChainFactor<T>* fs, int64_t L, const uint8_t* want_norm,
                 const uint8_t* want_prod, double* norm, double* prod, int64_t* norm_info,
                 int64_t* prod_info, double* fro, int64_t* reads, double tol, int block,
                 int nthreads);

}  // namespace cpu
}  // namespace gsa
