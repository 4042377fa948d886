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

}  // namespace cpu
}  // namespace gsa
