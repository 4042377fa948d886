// CPU kernels for orbit tails and truncation ranks (spec §8.2–§8.4): batch loops over
// math/tails.hpp.
#pragma once

#include <cstdint>

namespace gsa {
namespace cpu {

// out[i] = T_{alpha[i]}(r[i]) for width d[i].
void orbit_tail(const double* alpha, const int64_t* r, const int64_t* d, int64_t n, double* out,
                int nthreads);

// out[i] = r_{eps[i]}(alpha[i]) for width d[i].
void orbit_truncation_rank(const double* alpha, const double* eps, const int64_t* d, int64_t n,
                           int64_t* out, int nthreads);

// out[i] = γ_{eps[i]}(alpha[i]) for width d[i].
void tail_margin(const double* alpha, const double* eps, const int64_t* d, int64_t n, double* out,
                 int nthreads);

// out[i*rmax + r−1] = a_r(eps[i], d[i]) for r = 1..rmax.
void plateau_thresholds(const double* eps, const int64_t* d, int64_t n, int64_t rmax, double* out,
                        int nthreads);

// tail_lipschitz (Lemma 5.8): out[i] = c·log d[i] for widths 1 ≤ d[i] ≤ 2^53, validated in the
// same pass. Returns −1, or the first index whose width is out of range (out is then partial).
int64_t scaled_log_widths(const int64_t* d, int64_t n, double c, double* out, int nthreads);

}  // namespace cpu
}  // namespace gsa
