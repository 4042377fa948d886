// Singular values of one float64 matrix by the stages of LAPACK's values-only dgesdd, called one
// panel at a time so that Ctrl-C (interrupt.hpp) is seen between panels: a 4096 × 11008 dgesdd
// is one 30-second LAPACK call that nothing can stop.
#pragma once

#include <cstdint>
#include <vector>

namespace gsa {
namespace cpu {

// A: column-major m×n, m ≥ n ≥ 1, ld lda, destroyed. s: n values, descending. Returns LAPACK
// info (0 on success; > 0: the bidiagonal QR did not converge). Throws gsa::Interrupted.
// Stages (LAPACK's own routines, same arithmetic as dgesdd with jobz = 'N' up to the blocking):
//   m ≥ 11n/6: QR by panels (dgeqrf on the panel, dormqr on the trailing columns), R kept;
//   dense → bidiagonal by dgebrd's own loop (dlabrd panel + two dgemm updates, dgebd2 tail);
//   bidiagonal → values by dbdsqr without vectors (dqds, dlasq1: high relative accuracy).
int svd_values_staged(int64_t m, int64_t n, double* A, int64_t lda, double* s,
                      std::vector<double>& work);

}  // namespace cpu
}  // namespace gsa
