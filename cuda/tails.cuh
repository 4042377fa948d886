// CUDA launchers for the orbit tails, truncation ranks, margins and rank-plateau thresholds
// (device pointers in and out; one thread per parameter tuple).
#pragma once

#include <cstdint>

namespace gsa {
namespace cuda {

// out[i] = math::orbit_tail(alpha[i], r[i], d[i]) for i < n. Returns a cudaError_t as int.
int orbit_tail(const double* alpha, const int64_t* r, const int64_t* d, int64_t n, double* out,
               uintptr_t stream);

// out[i] = math::orbit_truncation_rank(alpha[i], eps[i], d[i]).
int orbit_truncation_rank(const double* alpha, const double* eps, const int64_t* d, int64_t n,
                          int64_t* out, uintptr_t stream);

// out[i] = math::tail_margin(alpha[i], eps[i], d[i]).
int tail_margin(const double* alpha, const double* eps, const int64_t* d, int64_t n, double* out,
                uintptr_t stream);

// out[i * rmax + (r - 1)] = math::plateau_threshold(eps[i], d[i], r) for r = 1..rmax: one
// thread per (i, r).
int plateau_thresholds(const double* eps, const int64_t* d, int64_t n, int64_t rmax, double* out,
                       uintptr_t stream);

}  // namespace cuda
}  // namespace gsa
