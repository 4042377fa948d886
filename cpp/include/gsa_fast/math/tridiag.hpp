// Eigenvalues of a symmetric tridiagonal T = tridiag(e, d, e) by Sturm-count bisection (or
// K-point multisection), the scalar pieces shared by the CPU executor (cpp/src/linalg/
// tridiag_bisect.cpp) and the CUDA kernel (cuda/tridiag.cu). See docs/gpu.md.
//
// Scaling. T is multiplied by 2^k, k chosen so that M = max_ij |T_ij| lands in [1/2, 1): exact
// (ldexp) except for entries that become subnormal, whose absolute change is below 2^-1074 of the
// scaled norm. Afterwards e_j² ≤ 1, no product overflows, and the eigenvalues are scaled back by
// 2^-k, again exactly.
//
// Sturm count. With the shifted squares e2[0] = 0, e2[j] = e_{j-1}² (j ≥ 1) and q_{-1} = 1,
//     q_j = (d_j − x) − e2[j] / q_{j−1},    |q_j| < pivmin ⇒ q_j := −pivmin,
// the number of j with q_j ≤ 0 is the number of eigenvalues of T below x (the inertia of the
// LDLᵀ factorization T − xI = LDLᵀ, D = diag(q)). In floating point (Kahan 1966; Demmel, Dhillon
// and Ren 1995): each of the three operations rounds once, and dividing q_j by the factors of
// its own subtraction's roundings shows that the computed signs are the exact signs for a matrix
// T' with the same d and e'_j = e_j(1 + η_j), |η_j| ≤ 2.5u + O(u²) (u = 2⁻⁵³). The pivmin
// guard (LAPACK dlaebz's, pivmin = safmin·max(1, max e_j²)) changes d_j by at most 2·pivmin and
// keeps |e2/q| ≤ 1/safmin finite: the recurrence never overflows once T is scaled. So each count
// is exact for some T' with ‖T' − T‖₂ ≤ 5u·max|e_j| + 2·pivmin (Weyl).
//
// Bisection of index i (0-based, ascending): the invariant count(lo) ≤ i < count(hi) brackets
// λ_i(T') for the T' of the endpoints' counts. K-point multisection evaluates the count at
// x_t = lo + (t + 1)·h, h = (hi − lo)/(K + 1), t < K, and keeps [x_{t−1}, x_t] for the first t
// with count(x_t) > i (x_{−1} = lo, x_K = hi). It stops when hi − lo ≤ max(abstol, pivmin,
// 4u·max(|lo|, |hi|)) or the interval no longer shrinks, and returns (lo + hi)/2. With the
// default abstol = 2u·tnorm (tnorm = max(|gl|, |gu|) of the Gershgorin interval, ≤ 3M) the
// absolute error is at most
//     |λ̂_i − λ_i| ≤ u·tnorm + 2u·|λ_i| + 5u·M + 2·pivmin + (rounding of the midpoint) ≲ 12u·M,
// independent of n: well inside the Gram route's c·n·u·‖T‖.
//
// Order. Every eigenvalue's search starts from the same [gl, gu] and is a deterministic function
// of the interval and of the counts it reads, so two indices follow the same path until they
// choose different subintervals and stay in disjoint (or adjacent) ones afterwards: the results
// are ascending even where rounding makes the count non-monotone, and each value is independent
// of which thread, lane or point schedule computed the other values.
//
// Header-only, GSA_HD, no allocation. Every product that meets a sum goes through tri_mul
// (__dmul_rn on the device, which nvcc never fuses into an FMA; the host file is compiled with
// -ffp-contract=off), so the device rounds exactly as the host does.
#pragma once

#include <math.h>
#include <stdint.h>

#include "gsa_fast/config.hpp"

namespace gsa {
namespace math {

constexpr double kTriU = 0x1p-53;          // unit roundoff u
constexpr double kTriSafmin = 0x1p-1022;   // smallest normal (LAPACK dlamch('S'))
constexpr int kTriMaxPoints = 32;          // multisection points per step, at most (a warp)
constexpr int kTriMaxSteps = 2200;         // a step at least halves the interval; > 2·1074 + 53

// a·b rounded on its own, never contracted with a following addition into an FMA.
GSA_HD double tri_mul(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}

// The exponent k of the scaling T ← 2^k·T that puts amax = max|T_ij| in [1/2, 1) (0 for amax = 0
// or non-finite amax).
GSA_HD int tridiag_scale_exponent(double amax) {
  if (!(amax > 0.0) || !(amax <= 1.7976931348623157e308)) return 0;
  int ex = 0;
  frexp(amax, &ex);  // amax = m·2^ex, m ∈ [1/2, 1)
  return -ex;
}

// Per-matrix bisection parameters, computed from the scaled d and the shifted squares e2.
struct TridiagBounds {
  double lo;      // Gershgorin lower bound, widened
  double hi;      // Gershgorin upper bound, widened
  double pivmin;  // dlaebz's pivot guard
  double abstol;  // absolute stopping width
};

// Row j of the problem scaled by 2^ex (0 ≤ j < n; e has n − 1 entries): the scaled diagonal sd,
// the shifted square e2 = (2^ex·e_{j−1})² (0 for j = 0) and the Gershgorin interval [lo, hi] =
// [sd − r, sd + r], r = |e_{j−1}| + |e_j| (scaled). The CPU executor runs it row by row, the CUDA
// prep kernel one row per thread; the caller reduces lo (min), hi and e2 (max) over the rows, then
// widens with tridiag_bounds. ldexp is exact, so the rows (and the reductions, min/max being exact
// in any order) are bitwise the same on both.
struct TridiagRow {
  double sd, e2, lo, hi;
};

GSA_HD TridiagRow tridiag_scaled_row(int64_t n, const double* d, const double* e, int64_t j, int ex) {
  const double dj = ldexp(d[j], ex);
  const double ep = j > 0 ? ldexp(e[j - 1], ex) : 0.0;
  const double en = j + 1 < n ? ldexp(e[j], ex) : 0.0;
  const double r = fabs(ep) + fabs(en);
  TridiagRow row;
  row.sd = dj;
  row.e2 = ep * ep;
  row.lo = dj - r;
  row.hi = dj + r;
  return row;
}

// Widens the Gershgorin interval [gl, gu] of an n × n scaled matrix by the count's backward error
// (5u·max|e| ≤ 5u·tnorm, plus the rounding of gl/gu themselves) so that count(lo) = 0 and
// count(hi) = n, and fixes pivmin and abstol.
GSA_HD TridiagBounds tridiag_bounds(double gl, double gu, double emax2) {
  TridiagBounds b;
  b.pivmin = kTriSafmin * fmax(1.0, emax2);
  const double tnorm = fmax(fabs(gl), fabs(gu));
  const double widen = tri_mul(16.0 * kTriU, tnorm) + tri_mul(4.0, b.pivmin);
  b.lo = gl - widen;
  b.hi = gu + widen;
  b.abstol = tri_mul(2.0 * kTriU, tnorm);
  return b;
}

// One step of the Sturm recurrence: q_j from q_{j−1} (q_{−1} = 1, e2[0] = 0).
GSA_HD double sturm_step(double q, double d, double e2, double x, double pivmin) {
  q = (d - x) - e2 / q;
  return fabs(q) < pivmin ? -pivmin : q;
}

// Number of eigenvalues of the scaled matrix (d, shifted squares e2) below x.
GSA_HD int64_t sturm_count(int64_t n, const double* d, const double* e2, double pivmin, double x) {
  double q = 1.0;
  int64_t c = 0;
  for (int64_t j = 0; j < n; ++j) {
    q = sturm_step(q, d[j], e2[j], x, pivmin);
    c += q <= 0.0;
  }
  return c;
}

// The counts at k points at once (k ≤ kTriMaxPoints): independent recurrences interleaved, so a
// CPU core has k dependency chains in flight. Each count is bitwise sturm_count's.
GSA_HD void sturm_counts(int64_t n, const double* d, const double* e2, double pivmin, const double* x,
                         int k, int64_t* c) {
  double q[kTriMaxPoints];
  for (int t = 0; t < k; ++t) {
    q[t] = 1.0;
    c[t] = 0;
  }
  for (int64_t j = 0; j < n; ++j) {
    const double dj = d[j], ej = e2[j];
    for (int t = 0; t < k; ++t) {
      q[t] = sturm_step(q[t], dj, ej, x[t], pivmin);
      c[t] += q[t] <= 0.0;
    }
  }
}

// Point t (0 ≤ t < k) of the k-point multisection of [lo, hi]; ascending in t, inside [lo, hi].
GSA_HD double multisect_point(double lo, double hi, int t, int k) {
  const double h = (hi - lo) / (double)(k + 1);
  return lo + tri_mul((double)(t + 1), h);
}

// The stopping test on [lo, hi].
GSA_HD bool bisect_converged(double lo, double hi, double abstol, double pivmin) {
  const double tol = fmax(fmax(abstol, pivmin), tri_mul(4.0 * kTriU, fmax(fabs(lo), fabs(hi))));
  return hi - lo <= tol;
}

// One multisection step: `first` is the first point t with count(x_t) > i (k when none). Narrows
// [*lo, *hi] and returns true when the search is finished (converged, or no progress).
GSA_HD bool multisect_update(double* lo, double* hi, int first, int k, double abstol, double pivmin) {
  const double a = *lo, b = *hi;
  const double nlo = first == 0 ? a : multisect_point(a, b, first - 1, k);
  const double nhi = first == k ? b : multisect_point(a, b, first, k);
  *lo = nlo;
  *hi = nhi;
  return (nlo == a && nhi == b) || bisect_converged(nlo, nhi, abstol, pivmin);
}

// The first point t < k whose count exceeds i, from the mask `above` (bit t set when
// count(x_t) > i); k when no bit is set. The device builds the mask with a warp ballot.
GSA_HD int multisect_first(uint32_t above, int k) {
  for (int t = 0; t < k; ++t)
    if ((above >> t) & 1u) return t;
  return k;
}

// The returned value of a finished search.
GSA_HD double bisect_value(double lo, double hi) { return tri_mul(0.5, lo + hi); }

// Eigenvalue i (0-based, ascending) of the scaled matrix by k-point multisection (k = 1: plain
// bisection) from the bounds b; the scalar form of what the CUDA kernel's k lanes do together.
GSA_HD double tridiag_eigenvalue(int64_t n, const double* d, const double* e2, const TridiagBounds& b,
                                 int64_t i, int k) {
  double lo = b.lo, hi = b.hi;
  if (bisect_converged(lo, hi, b.abstol, b.pivmin)) return bisect_value(lo, hi);
  double x[kTriMaxPoints];
  int64_t c[kTriMaxPoints];
  for (int step = 0; step < kTriMaxSteps; ++step) {
    for (int t = 0; t < k; ++t) x[t] = multisect_point(lo, hi, t, k);
    sturm_counts(n, d, e2, b.pivmin, x, k, c);
    uint32_t above = 0;
    for (int t = 0; t < k; ++t) above |= (uint32_t)(c[t] > i) << t;
    if (multisect_update(&lo, &hi, multisect_first(above, k), k, b.abstol, b.pivmin)) break;
  }
  return bisect_value(lo, hi);
}

}  // namespace math
}  // namespace gsa
