#include "gsa_fast/kernels/orbit.hpp"

#include <cmath>
#include <stdexcept>
#include <vector>

#include "gsa_fast/math/orbit.hpp"
#include "gsa_fast/parallel.hpp"

namespace gsa {
namespace cpu {

void orbit_unary(int op, const double* alpha, const int64_t* d, int64_t n, double* out,
                 int nthreads) {
  if (op < math::kLogPartition || op > math::kEntropy) throw std::invalid_argument("orbit_unary: bad op");
  parallel_for(n, nthreads, 64, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) out[i] = math::orbit_unary_op(op, alpha[i], d[i]);
  });
}

void orbit_binary(int op, const double* a, const double* b, const int64_t* d, int64_t n,
                  double* out, int nthreads) {
  if (op < math::kKL || op > math::kBuresLength) throw std::invalid_argument("orbit_binary: bad op");
  const int64_t grain = (op == math::kBuresLength) ? 4 : 32;
  parallel_for(n, nthreads, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) out[i] = math::orbit_binary_op(op, a[i], b[i], d[i]);
  });
}

void orbit_probs(const double* alpha, int64_t n, int64_t d, double* out, int nthreads) {
  if (d < 1) throw std::invalid_argument("orbit_probs: d must be >= 1");
  // Parallel over (row, block of k) so that one large row still uses every thread.
  const int64_t block = 1 << 14;
  const int64_t nb = (d + block - 1) / block;
  std::vector<double> inv_h(n);
  for (int64_t i = 0; i < n; ++i) inv_h[i] = math::orbit_probs_inv_h(alpha[i], d);
  parallel_for(n * nb, nthreads, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t i = t / nb, b0 = (t % nb) * block;
      const int64_t b1 = (b0 + block < d) ? b0 + block : d;
      double* row = out + i * d;
      for (int64_t k = b0; k < b1; ++k) row[k] = math::orbit_prob(k, alpha[i], inv_h[i]);
    }
  });
}

}  // namespace cpu
}  // namespace gsa
