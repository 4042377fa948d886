// Eigenvalues of stacks of symmetric tridiagonal matrices by Sturm-count multisection (CPU), the
// host executor of math/tridiag.hpp and the CPU twin of the CUDA kernel in cuda/tridiag.cu.
#pragma once

#include <cstdint>

namespace gsa {
namespace cpu {

// Problem k (0 ≤ k < count) is T_k = tridiag(e_k, d_k, e_k) with d_k = d[k·n .. k·n + n) and
// e_k = e[k·(n−1) .. + n − 1) (finite values; the caller checks). w[k·n .. + n) receives its
// eigenvalues, ascending, each by `points`-point multisection (1 ≤ points ≤ 32; 1 is bisection)
// with the error bound of math/tridiag.hpp (≲ 12·u·max|T_ij|). Threads split the eigenvalues of
// all problems; every value is bitwise the same for any nthreads and equals, for the same
// `points`, what the CUDA kernel computes. n = 1 and T = 0 are returned exactly.
void tridiag_eigvalues(int64_t count, int64_t n, const double* d, const double* e, double* w,
                       int points, int nthreads);

}  // namespace cpu
}  // namespace gsa
