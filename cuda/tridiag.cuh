// CUDA launcher of the tridiagonal eigenvalue solver (Sturm-count multisection; device pointers).
#pragma once

#include <cstdint>

namespace gsa {
namespace cuda {

// Problem k (0 ≤ k < count): T_k = tridiag(e_k, d_k, e_k), d (count, n) and e (count, n − 1)
// C-contiguous float64, finite (the caller checks). Two kernels on `stream`: one block per
// problem scales it (math/tridiag.hpp) into work (2·count·n doubles: scaled d, shifted squares of
// e) and params (6·count doubles: bounds, exponent, trivial flag); then `points` lanes per
// eigenvalue (1, 2, 4, 8, 16 or 32; 256 threads a block, 256/points eigenvalues a block, the
// problem's d and e² read through shared-memory tiles) run the multisection of
// math::tridiag_eigenvalue and write w (count, n), ascending per row, bitwise equal to
// cpu::tridiag_eigvalues with the same points. Returns a cudaError_t as int
// (cudaErrorInvalidValue for a points value outside the list).
int tridiag_eigvalues(const double* d, const double* e, int64_t count, int64_t n, int points,
                      double* work, double* params, double* w, uintptr_t stream);

}  // namespace cuda
}  // namespace gsa
