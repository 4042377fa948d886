// Four-lane interleaved Pal–Walker–Kahan QL for symmetric tridiagonal eigenvalues.
// See linalg/sterf_lanes.hpp. The control flow of each lane follows LAPACK's dsterf (block
// splitting, scaling into [ssfmin, ssfmax], squared off-diagonals, Wilkinson-like shift, the
// 2×2 closed form, 30·n iterations in all); only the inner loop is shared between lanes.
#include "gsa_fast/linalg/sterf_lanes.hpp"

#include <algorithm>
#include <cmath>


namespace gsa {
namespace cpu {
namespace {

constexpr double kEps = 0x1p-53;             // LAPACK dlamch('E')
constexpr double kEps2 = kEps * kEps;
constexpr double kSafmin = 0x1p-1022;        // dlamch('S')
constexpr int kMaxIt = 30;                   // dsterf's MAXIT (per eigenvalue)
const double kSsfmax = std::sqrt(1.0 / kSafmin) / 3.0;
const double kSsfmin = std::sqrt(kSafmin) / kEps2;

// Eigenvalues of [[a, b], [b, c]], rt1 of larger magnitude (the algorithm of LAPACK's dlae2).
void eig2(double a, double b, double c, double* rt1, double* rt2) {
  const double sm = a + c, df = a - c, adf = std::fabs(df), tb = b + b, ab = std::fabs(tb);
  const bool a_big = std::fabs(a) > std::fabs(c);
  const double acmx = a_big ? a : c, acmn = a_big ? c : a;
  double rt;
  if (adf > ab) {
    const double t = ab / adf;
    rt = adf * std::sqrt(1.0 + t * t);
  } else if (adf < ab) {
    const double t = adf / ab;
    rt = ab * std::sqrt(1.0 + t * t);
  } else {
    rt = ab * std::sqrt(2.0);
  }
  if (sm == 0.0) {
    *rt1 = 0.5 * rt;
    *rt2 = -0.5 * rt;
    return;
  }
  *rt1 = sm < 0.0 ? 0.5 * (sm - rt) : 0.5 * (sm + rt);
  *rt2 = (acmx / *rt1) * acmn - (b / *rt1) * b;
}

// sqrt(x² + 1) without overflow (dlapy2(x, 1)).
double hypot1(double x) {
  const double a = std::fabs(x);
  if (a <= 1.0) return std::sqrt(1.0 + a * a);
  const double t = 1.0 / a;
  return a * std::sqrt(1.0 + t * t);
}

struct Lane {
  // problem
  double* d = nullptr;
  double* e = nullptr;
  int64_t n = 0;
  int* info = nullptr;
  // dsterf's control state (0-based)
  int64_t l1 = 0, l = 0, lend = 0, lsv = 0, lendsv = 0;
  int64_t jtot = 0, nmaxit = 0;
  double scale = 1.0;  // block scaled by `scale` (1: not scaled)
  // sweep state: the next inner step is at index i (runs down to l)
  int64_t i = -1;
  double sigma = 0.0, c = 0.0, s = 0.0, gamma = 0.0, p = 0.0;

  int64_t remaining() const { return i - l + 1; }

  void begin(double* dk, double* ek, int64_t nk, int* infok) {
    d = dk;
    e = ek;
    n = nk;
    info = infok;
    *info = 0;
    l1 = 0;
    jtot = 0;
    nmaxit = n * kMaxIt;
    scale = 1.0;
    l = 0;
    lend = -1;  // no block open
  }

  // dsterf label 10: find the next unreduced block, scale it, square its off-diagonal and orient
  // it for QL. False when the matrix has no block left.
  bool next_block() {
    for (;;) {
      if (l1 >= n) return false;
      if (l1 > 0) e[l1 - 1] = 0.0;
      int64_t m = l1;
      for (; m < n - 1; ++m) {
        if (std::fabs(e[m]) <= (std::sqrt(std::fabs(d[m])) * std::sqrt(std::fabs(d[m + 1]))) * kEps) {
          e[m] = 0.0;
          break;
        }
      }
      l = l1;
      lend = m;
      l1 = m + 1;
      if (lend == l) continue;
      double anorm = 0.0;  // dlanst('M')
      for (int64_t k = l; k <= lend; ++k) anorm = std::max(anorm, std::fabs(d[k]));
      for (int64_t k = l; k < lend; ++k) anorm = std::max(anorm, std::fabs(e[k]));
      if (anorm == 0.0) continue;
      scale = 1.0;
      if (anorm > kSsfmax) scale = kSsfmax / anorm;
      else if (anorm < kSsfmin) scale = kSsfmin / anorm;
      if (scale != 1.0) {
        for (int64_t k = l; k <= lend; ++k) d[k] *= scale;
        for (int64_t k = l; k < lend; ++k) e[k] *= scale;
      }
      for (int64_t k = l; k < lend; ++k) e[k] *= e[k];
      if (std::fabs(d[lend]) < std::fabs(d[l])) {  // QR on T = QL on the reversed T
        std::reverse(d + l, d + lend + 1);
        std::reverse(e + l, e + lend);
      }
      lsv = l;
      lendsv = lend;
      return true;
    }
  }

  // dsterf label 150: undo the block's scaling.
  void close_block() {
    if (scale != 1.0) {
      const double inv = 1.0 / scale;
      for (int64_t k = lsv; k <= lendsv; ++k) d[k] *= inv;
      scale = 1.0;
    }
  }

  // dsterf label 50 onwards: deflate what has converged and set up the next QL sweep. False when
  // the matrix is finished (sorted, or info set).
  bool start_sweep() {
    for (;;) {
      if (l > lend) {  // block done (or none open yet)
        if (lend >= 0) {
          close_block();
          if (jtot >= nmaxit) {
            int bad = 0;
            for (int64_t k = 0; k + 1 < n; ++k) bad += e[k] != 0.0;
            *info = bad;
            return false;
          }
        }
        if (!next_block()) {
          std::sort(d, d + n);
          return false;
        }
      }
      int64_t m = l;
      for (; m < lend; ++m)
        if (std::fabs(e[m]) <= kEps2 * std::fabs(d[m] * d[m + 1])) break;
      if (m < lend) e[m] = 0.0;
      const double p0 = d[l];
      if (m == l) {  // eigenvalue found
        ++l;
        continue;
      }
      if (m == l + 1) {
        double rt1, rt2;
        eig2(d[l], std::sqrt(e[l]), d[l + 1], &rt1, &rt2);
        d[l] = rt1;
        d[l + 1] = rt2;
        e[l] = 0.0;
        l += 2;
        continue;
      }
      if (jtot == nmaxit) {
        l = lend + 1;  // give up on this block: label 150, then the info count
        continue;
      }
      ++jtot;
      const double rte = std::sqrt(e[l]);
      double sg = (d[l + 1] - p0) / (2.0 * rte);
      const double r = hypot1(sg);
      sigma = p0 - rte / (sg + std::copysign(r, sg));
      c = 1.0;
      s = 0.0;
      gamma = d[m] - sigma;
      p = gamma * gamma;
      i = m - 1;
      // the first inner step writes e[m] = s·r = ±0: e[m] is the split zero (or the scratch slot
      // past the end), which LAPACK leaves alone
      return true;
    }
  }

  // End of a sweep (after the step at i = l).
  void end_sweep() {
    e[l] = s * p;
    d[l] = sigma + gamma;
  }
};

// One inner step of the QL sweep of a lane (dsterf's loop 80 body).
inline void step(Lane& L) {
  const int64_t i = L.i;
  const double bb = L.e[i];
  const double r = L.p + bb;
  L.e[i + 1] = L.s * r;
  const double oldc = L.c;
  L.c = L.p / r;
  L.s = bb / r;
  const double oldgam = L.gamma;
  const double alpha = L.d[i];
  L.gamma = L.c * (alpha - L.sigma) - L.s * oldgam;
  L.d[i + 1] = oldgam + (alpha - L.gamma);
  L.p = L.c != 0.0 ? (L.gamma * L.gamma) / L.c : oldc * bb;
  L.i = i - 1;
}

constexpr int kLanes = 4;

}  // namespace

void sterf_lanes(int64_t count, const int64_t* n, double* const* d, double* const* e, int* info) {
  Lane lanes[kLanes];
  bool active[kLanes] = {};
  int64_t next = 0;
  // Give lane L its next problem with a sweep to run; false when the queue is empty.
  auto refill = [&](Lane& L) {
    while (next < count) {
      const int64_t k = next++;
      L.begin(d[k], e[k], n[k], info + k);
      if (L.start_sweep()) return true;
    }
    return false;
  };
  int nactive = 0;
  for (int w = 0; w < kLanes; ++w) nactive += (active[w] = refill(lanes[w]));
  while (nactive > 0) {
    int64_t steps = INT64_MAX;
    for (int w = 0; w < kLanes; ++w)
      if (active[w]) steps = std::min(steps, lanes[w].remaining());
    if (nactive == kLanes) {
      for (int64_t t = 0; t < steps; ++t) {
        step(lanes[0]);
        step(lanes[1]);
        step(lanes[2]);
        step(lanes[3]);
      }
    } else {
      for (int64_t t = 0; t < steps; ++t)
        for (int w = 0; w < kLanes; ++w)
          if (active[w]) step(lanes[w]);
    }
    for (int w = 0; w < kLanes; ++w) {
      Lane& L = lanes[w];
      if (!active[w] || L.remaining() > 0) continue;
      L.end_sweep();
      if (L.start_sweep()) continue;
      if (!refill(L)) {
        active[w] = false;
        --nactive;
      }
    }
  }
}

}  // namespace cpu
}  // namespace gsa
