#include "gsa_fast/kernels/tails.hpp"

#include "gsa_fast/math/tails.hpp"
#include "gsa_fast/parallel.hpp"

namespace gsa {
namespace cpu {

void orbit_tail(const double* alpha, const int64_t* r, const int64_t* d, int64_t n, double* out,
                int nthreads) {
  parallel_for(n, nthreads, 256, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) out[i] = math::orbit_tail(alpha[i], r[i], d[i]);
  });
}

void orbit_truncation_rank(const double* alpha, const double* eps, const int64_t* d, int64_t n,
                           int64_t* out, int nthreads) {
  parallel_for(n, nthreads, 32, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) out[i] = math::orbit_truncation_rank(alpha[i], eps[i], d[i]);
  });
}

void tail_margin(const double* alpha, const double* eps, const int64_t* d, int64_t n, double* out,
                 int nthreads) {
  parallel_for(n, nthreads, 32, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) out[i] = math::tail_margin(alpha[i], eps[i], d[i]);
  });
}

void plateau_thresholds(const double* eps, const int64_t* d, int64_t n, int64_t rmax, double* out,
                        int nthreads) {
  parallel_for(n * rmax, nthreads, 4, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t i = t / rmax, r = t % rmax + 1;
      out[t] = math::plateau_threshold(eps[i], d[i], r);
    }
  });
}

}  // namespace cpu
}  // namespace gsa
