// Sturm-count multisection for stacks of symmetric tridiagonals; see linalg/tridiag_bisect.hpp
// and, for the arithmetic and its error bound, math/tridiag.hpp.
#include "gsa_fast/linalg/tridiag_bisect.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gsa_fast/interrupt.hpp"
#include "gsa_fast/math/tridiag.hpp"
#include "gsa_fast/parallel.hpp"

namespace gsa {
namespace cpu {
namespace {

struct Prepared {
  math::TridiagBounds b{};
  int exponent = 0;  // T was scaled by 2^exponent
  bool trivial = false;  // n = 1 or T = 0: w is d itself
};

// Scaled diagonal (sd) and shifted squares (e2) of one problem, and its bounds.
Prepared prepare(int64_t n, const double* d, const double* e, double* sd, double* e2) {
  Prepared p;
  double amax = 0.0;
  for (int64_t j = 0; j < n; ++j) amax = std::max(amax, std::fabs(d[j]));
  for (int64_t j = 0; j + 1 < n; ++j) amax = std::max(amax, std::fabs(e[j]));
  if (n == 1 || amax == 0.0) {
    p.trivial = true;
    return p;
  }
  const int k = math::tridiag_scale_exponent(amax);
  p.exponent = k;
  double gl = INFINITY, gu = -INFINITY, emax2 = 0.0;
  for (int64_t j = 0; j < n; ++j) {
    const math::TridiagRow row = math::tridiag_scaled_row(n, d, e, j, k);
    sd[j] = row.sd;
    e2[j] = row.e2;
    emax2 = std::max(emax2, row.e2);
    gl = std::min(gl, row.lo);
    gu = std::max(gu, row.hi);
  }
  p.b = math::tridiag_bounds(gl, gu, emax2);
  return p;
}

}  // namespace

void tridiag_eigvalues(int64_t count, int64_t n, const double* d, const double* e, double* w,
                       int points, int nthreads) {
  if (count <= 0 || n <= 0) return;
  points = std::min(std::max(points, 1), math::kTriMaxPoints);
  std::vector<double> work((size_t)(2 * count * n));
  std::vector<Prepared> prep((size_t)count);
  parallel_for(count, nthreads, 1, [&](int64_t b, int64_t end) {
    for (int64_t k = b; k < end; ++k)
      prep[(size_t)k] = prepare(n, d + k * n, e + k * (n - 1), &work[(size_t)(2 * k * n)],
                                &work[(size_t)(2 * k * n + n)]);
  });
  // one item per eigenvalue; small chunks keep a stack of few, large problems balanced
  const int64_t items = count * n;
  const int64_t grain = std::max<int64_t>(1, std::min<int64_t>(64, 65536 / n));
  parallel_for(items, nthreads, grain, [&](int64_t b, int64_t end) {
    interrupt_point();
    for (int64_t it = b; it < end; ++it) {
      const int64_t k = it / n, i = it % n;
      const Prepared& p = prep[(size_t)k];
      if (p.trivial) {  // n = 1: d itself; T = 0: zeros (d is all zero)
        w[it] = d[k * n + i];
        continue;
      }
      const double* sd = &work[(size_t)(2 * k * n)];
      const double lam = math::tridiag_eigenvalue(n, sd, sd + n, p.b, i, points);
      w[it] = std::ldexp(lam, -p.exponent);
    }
  });
}

}  // namespace cpu
}  // namespace gsa
