// Generalized harmonic numbers and log-weighted sums (spec §3).
//
//   H_{d,s} = Σ_{k≤d} k^-s,  L_{d,s} = Σ k^-s log k,  Q_{d,s} = Σ k^-s (log k)^2
//
// Evaluation (spec §3.3, head–tail Euler–Maclaurin with the start point chosen per (a, s)):
// terms before the start m = em_start(a, s) (m = 16 for prefix sums) are summed directly with
// compensation; the rest by Euler–Maclaurin with six Bernoulli corrections (B_2..B_12; the spec's
// three need a start near 128 for the same remainder), whose integral term is formed as
// e^{ta}·Σ C(j,i) a^{j-i} E_i(t,D) so that s → 1 loses nothing. Relative error is a few ulp
// for every s ≥ 0 and d ≤ 1e15 (tests/test_sums.py checks it against mpmath).
//
// Header-only, __host__ __device__: the CPU kernels and the CUDA kernels call these same
// functions. No exceptions, no allocation; out-of-domain input gives NaN.
#pragma once

#include <math.h>
#include <stdint.h>

#include "gsa_fast/config.hpp"
#include "gsa_fast/math/compensated.hpp"

// Host builds inline the Euler–Maclaurin helpers into their caller, so that the CPU kernel's
// x86-64-v3 clone (cpp/src/sums.cpp) compiles them with hardware FMA instead of calling libm's fma.
#if defined(__GNUC__) && !defined(__CUDACC__)
#define GSA_EM_INLINE __attribute__((always_inline))
#else
#define GSA_EM_INLINE
#endif

namespace gsa {
namespace math {

struct Sums3 {
  double h;  // Σ k^-s
  double l;  // Σ k^-s log k
  double q;  // Σ k^-s (log k)^2
};

constexpr int64_t kHeadTerms = 64;  // N of spec §3.3 (the start point other sums use with em_range)

// Prefix sums start Euler–Maclaurin at k = kPrefixStart: with six Bernoulli corrections the
// remainder there is below 2^-56 of the result for every s ≥ 0 (see em_start()).
constexpr int64_t kPrefixStart = 16;
constexpr int kLogTableSize = 68;

#ifndef __CUDA_ARCH__
// log k for k = 0..67 as an unevaluated double-double (hi + lo, |lo| ≤ ulp(hi)/2); mpmath values.
// Host only: device code computes log k on the fly (lo = 0).
constexpr double kLogHi[kLogTableSize] = {0.0, 0.0, 0.6931471805599453, 1.0986122886681098, 1.3862943611198906, 1.6094379124341003, 1.791759469228055, 1.9459101490553132, 2.0794415416798357, 2.1972245773362196, 2.302585092994046, 2.3978952727983707, 2.4849066497880004, 2.5649493574615367, 2.6390573296152584, 2.70805020110221, 2.772588722239781, 2.833213344056216, 2.8903717578961645, 2.9444389791664403, 2.995732273553991, 3.044522437723423, 3.091042453358316, 3.1354942159291497, 3.1780538303479458, 3.2188758248682006, 3.258096538021482, 3.295836866004329, 3.332204510175204, 3.367295829986474, 3.4011973816621555, 3.4339872044851463, 3.4657359027997265, 3.4965075614664802, 3.5263605246161616, 3.5553480614894135, 3.58351893845611, 3.6109179126442243, 3.6375861597263857, 3.6635616461296463, 3.6888794541139363, 3.713572066704308, 3.7376696182833684, 3.7612001156935624, 3.784189633918261, 3.8066624897703196, 3.828641396489095, 3.8501476017100584, 3.871201010907891, 3.8918202981106265, 3.912023005428146, 3.9318256327243257, 3.9512437185814275, 3.970291913552122, 3.9889840465642745, 4.007333185232471, 4.02535169073515, 4.04305126783455, 4.060443010546419, 4.07753744390572, 4.0943445622221, 4.110873864173311, 4.127134385045092, 4.143134726391533, 4.1588830833596715, 4.174387269895637, 4.189654742026425, 4.204692619390966};
constexpr double kLogLo[kLogTableSize] = {0.0, 0.0, 2.3190468138462996e-17, -9.07129723500153e-17, 4.638093627692599e-17, 9.280081691085902e-17, 4.349979825096335e-17, 7.323586207904907e-17, 1.8059370687790465e-16, -1.814259447000306e-16, -2.1707562233822494e-16, -1.253584211423161e-16, -4.433203607308931e-17, -2.5580975097208856e-18, 2.0744863268002772e-16, 2.0878445608437204e-18, 9.276187255385198e-17, -8.500696635386325e-17, 1.7483143082597936e-16, 1.9776172119535626e-16, 1.39181753187785e-16, -1.747711027096623e-17, -2.1319025546636875e-16, 1.5758359867283186e-17, -1.3216387039714197e-16, 1.8560163382171803e-16, -9.038993183377354e-17, -5.009431212501459e-17, 1.1961679835597506e-16, -1.1553104240685565e-16, -8.574398976320894e-17, -2.5863763694297672e-17, 4.930038229799327e-18, 5.973211432699923e-18, -1.728388006779159e-16, 1.660366789899081e-16, 8.69995965019267e-17, 9.643918385970854e-17, 1.0992988687130361e-16, 1.2877353506529513e-16, 5.134991886373236e-17, -1.4628004942704776e-16, -1.0530894459501889e-16, 3.879508085699725e-17, 1.4306712005964121e-16, 1.3341947713585974e-16, -7.207347445676947e-17, 1.5534199491592608e-16, -2.1999570472119463e-16, 1.4647172415809814e-16, 9.776979949766539e-17, 4.632466622115275e-17, -1.782217661578262e-16, -1.3098078310631424e-16, -1.3792614644906726e-16, -2.5460220915648837e-16, -4.123042458181402e-16, -1.1499585607969033e-16, 2.4072633311915433e-16, -2.5451232614395796e-16, 2.70513385762801e-16, -1.0515756814070423e-16, -1.1369559801835033e-16, 1.1385452230404978e-16, 3.611874137558093e-16, 3.1228732432616944e-16, 3.622305869587099e-16, 3.3533479800665464e-16};
#endif

#ifndef __CUDA_ARCH__
// 1/k for k = 0..43 (entry 0 unused): the E_i series divides by n + 1, n + 2, n + 3.
constexpr double kInv[44] = {0.0, 1.0 / 1, 1.0 / 2, 1.0 / 3, 1.0 / 4, 1.0 / 5, 1.0 / 6, 1.0 / 7, 1.0 / 8, 1.0 / 9, 1.0 / 10, 1.0 / 11, 1.0 / 12, 1.0 / 13, 1.0 / 14, 1.0 / 15, 1.0 / 16, 1.0 / 17, 1.0 / 18, 1.0 / 19, 1.0 / 20, 1.0 / 21, 1.0 / 22, 1.0 / 23, 1.0 / 24, 1.0 / 25, 1.0 / 26, 1.0 / 27, 1.0 / 28, 1.0 / 29, 1.0 / 30, 1.0 / 31, 1.0 / 32, 1.0 / 33, 1.0 / 34, 1.0 / 35, 1.0 / 36, 1.0 / 37, 1.0 / 38, 1.0 / 39, 1.0 / 40, 1.0 / 41, 1.0 / 42, 1.0 / 43};
#endif
GSA_HD double inv_small(int k) {
#ifndef __CUDA_ARCH__
  return kInv[k];
#else
  return 1.0 / k;
#endif
}

// log k (hi part; the lo part through lo when the table has it, else 0).
GSA_HD double log_count(int64_t k, double* lo) {
#ifndef __CUDA_ARCH__
  if (k < kLogTableSize) {
    *lo = kLogLo[k];
    return kLogHi[k];
  }
#endif
  *lo = 0.0;
  return log((double)k);
}

// Branch-free TwoSum accumulator (sum + running error); same role as KahanSum.
struct TwoSumAcc {
  double s = 0.0, c = 0.0;
  GSA_HD void add(double x) {
    const double t = s + x;
    const double z = t - s;
    c += (s - (t - z)) + (x - z);
    s = t;
  }
  GSA_HD double value() const { return s + c; }
};

// Where a sum over a..b switches from direct terms to Euler–Maclaurin (spec §3.3 allows any
// start N). The remainder after the B_12 term is ≈ 2 (s)_13 / ((2π)^14 m^13) · f(m), and f(m) is
// (a/m)^s of the first term. (s)_13 ≤ (s+6)^13 gives m ≥ 2.9 (s + 6) for 2^-56 relative to f(m);
// from a ≤ 2 the factor (a/m)^s ≤ 8^-s makes m = 16 enough for every s ≥ 0 (checked for s = 1, 4,
// 6, 30 and s → ∞ in the derivation; tests/test_sums.py measures it against mpmath).
GSA_HD int64_t em_start(int64_t a, double s) {
  if (a <= 2) return kPrefixStart;
  const double need = ceil(2.9 * (s + 6.0));
  int64_t m = (need > 9.0e15) ? (int64_t)9.0e15 : (int64_t)need;
  if (m < kPrefixStart) m = kPrefixStart;
  return (a > m) ? a : m;
}

// Direct sum of f_j(k) = k^-s (log k)^j, j = 0,1,2, for k = a..b (a ≥ 1), ascending k, with
// compensated accumulation. log k comes from the double-double table for k ≤ 64, and k^-s is
// exp(y_hi)·(1 + y_lo) with y = −s log k carried to double-double, so a term's error is exp's own.
// For s > 2 the loop stops once the rest of the range is below 2^-60 of the sums.
GSA_HD Sums3 direct_range(int64_t a, int64_t b, double s) {
  TwoSumAcc h, l, q;
  for (int64_t k = a; k <= b; ++k) {
    double ulo;
    const double u = log_count(k, &ulo);
    double w = 1.0;
    if (s != 0.0) {
      const double yh = -s * u;
      const double yl = fma(-s, u, -yh) - s * ulo;
      w = exp(yh);
      // k^-s decreases in k (s > 0): once a term underflows to 0 every later one does, and the
      // sums are final. Stopping here also keeps s·log k = inf (s ~ 1.7e308) from making
      // yl = inf and 0·inf = NaN, and a range a ≥ 3 whose em_start is ~9e15 (s ≳ 1e10) from
      // looping over up to 1e15 zero terms.
      if (w == 0.0) break;
      w += w * yl;
    }
    h.add(w);
    l.add(w * u);
    q.add(w * u * u);
    // Σ_{j>k} j^-s (log j)^2 ≤ k^{1-s}/(s−1)·((log k)^2 + 2 log k/(s−1) + 2/(s−1)^2) ≤
    // 5 w k (log k)^2/(s−1) once (s−1) log k ≥ 1; the same bound covers H and L relative to
    // their sums (q ≤ l log k ≤ h (log k)^2 over k' ≤ k).
    if (s > 2.0 && k >= 3 && (s - 1.0) * u >= 1.0 &&
        5.0 * w * (double)k * u * u < 0x1p-60 * (s - 1.0) * q.s)
      break;
  }
  return {h.value(), l.value(), q.value()};
}

// exp(yh + yl) for |yl| ≲ ulp(yh): exp's own error, not |y|·ulp from a rounded argument.
GSA_EM_INLINE GSA_HD double exp_dd(double yh, double yl) {
  const double e = exp(yh);
  return e + e * yl;
}

// E_i(t, D) = ∫_0^D v^i e^{tv} dv for i = 0,1,2 (spec §3.3), cancellation-free, with
// D = Dh + Dl (double-double). E[0] comes back as E0h + E0l (the integral's leading term).
GSA_EM_INLINE GSA_HD void em_integral_parts(double t, double Dh, double Dl, double E[3], double* E0l) {
  const double xh = t * Dh;
  // Series up to |tD| = 1.75 (the spec says 1): between 1 and 1.75 the closed form of E_2 loses
  // up to 1.9e-15 to cancellation, the series ≤ 8e-16 (measured against mpmath quadrature).
  if (fabs(xh) < 1.75) {
    // E_i = Σ_n t^n D^{n+i+1} / (n! (n+i+1))
    double term = 1.0;  // (tD)^n / n!
    double e0 = 0.0, e1 = 0.0, e2 = 0.0;
    for (int n = 0; n < 40; ++n) {
      const double r1 = inv_small(n + 1);
      e0 += term * r1;
      e1 += term * inv_small(n + 2);
      e2 += term * inv_small(n + 3);
      term *= xh * r1;
      if (fabs(term) < 1e-19) break;
    }
    E[0] = e0 * Dh;
    *E0l = fma(e0, Dh, -E[0]) + e0 * Dl;
    E[1] = e1 * Dh * Dh;
    E[2] = e2 * Dh * Dh * Dh;
  } else {
    // |tD| ≥ 1.75: e^{tD} − 1 has no cancellation; tD is carried to double-double so e^{tD} keeps
    // exp's accuracy for large |tD| (s < 1, d ~ 1e12).
    const double xl = fma(t, Dh, -xh) + t * Dl;
    const double etd = exp_dd(xh, xl);
    E[0] = (etd - 1.0) / t;
    *E0l = 0.0;
    E[1] = (Dh * etd - E[0]) / t;
    E[2] = (Dh * Dh * etd - 2.0 * E[1]) / t;
  }
}

// Euler–Maclaurin weights B_{2i}/(2i)!, i = 1..6.
constexpr int kBernoulliTerms = 6;
GSA_HD double bernoulli_weight(int i) {
  switch (i) {
    case 1: return 1.0 / 12.0;
    case 2: return -1.0 / 720.0;
    case 3: return 1.0 / 30240.0;
    case 4: return -1.0 / 1209600.0;
    case 5: return 1.0 / 47900160.0;
    default: return -691.0 / 1307674368000.0;
  }
}

// The odd derivatives f_j^{(2i-1)}(x) = x^{-s-2i+1} P_{ij}(log x) have polynomial parts that do
// not depend on x: a derivative of x^{-t} Σ c_n u^n is x^{-t-1} Σ_n ((n+1) c_{n+1} − t c_n) u^n.
// EmPoly holds B_{2i}/(2i)! · P_{ij} for one s, evaluated at both endpoints.
struct EmPoly {
  double c[kBernoulliTerms][3][3];  // [i-1][j][power of u]
};

// nj = 1 forms only the j = 0 (H) polynomials.
GSA_EM_INLINE GSA_HD void em_poly(double s, EmPoly* P, int nj = 3) {
  double c[3][3] = {{1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}, {0.0, 0.0, 1.0}};  // [j][n]
  double t = s;
  for (int n = 1; n <= 2 * kBernoulliTerms - 1; ++n) {
    for (int j = 0; j < nj; ++j) {
      const double n0 = c[j][1] - t * c[j][0];
      const double n1 = 2.0 * c[j][2] - t * c[j][1];
      const double n2 = -t * c[j][2];
      c[j][0] = n0;
      c[j][1] = n1;
      c[j][2] = n2;
    }
    t += 1.0;
    if (n % 2 == 1) {
      const double w = bernoulli_weight((n + 1) / 2);
      for (int j = 0; j < nj; ++j)
        for (int k = 0; k < 3; ++k) P->c[(n - 1) / 2][j][k] = w * c[j][k];
    }
  }
}

// Σ_i B_{2i}/(2i)! f_j^{(2i-1)}(x) for j = 0,1,2, given w = x^-s and u = log x.
GSA_EM_INLINE GSA_HD void em_corrections(const EmPoly& P, double x, double w, double u, double out[3],
                           int nj = 3) {
  const double xi = 1.0 / x, xi2 = xi * xi;
  for (int j = 0; j < nj; ++j) {
    double acc = 0.0;
    for (int i = kBernoulliTerms - 1; i >= 0; --i)
      acc = acc * xi2 + (P.c[i][j][0] + u * (P.c[i][j][1] + u * P.c[i][j][2]));
    out[j] = acc * xi * w;
  }
}

// Σ_{k=a}^{b} f_j(k) by Euler–Maclaurin on [a, b] with B_2..B_12 (requires a ≥ em_start(a, s)
// or a ≥ kHeadTerms, b > a). The H sum comes back as h + *h_lo: its leading term, the integral
// e^{ta}·E_0 with E_0 ≈ log(b/a) near s = 1, is carried to double-double so that H_{d,1} for
// d ~ 1e12 is not off by the last bit of log(b/a). Transcendentals: log a (table for a ≤ 67),
// log1p, exp ×4 (plus 3 more for a > 64, b ≤ 2^53).
// kOnlyH skips the L and Q parts (they come back as 0): harmonic() asks for H alone.
template <bool kOnlyH = false>
GSA_EM_INLINE GSA_HD Sums3 em_range_dd(int64_t a, int64_t b, double s, double* h_lo) {
  const double xa = (double)a, xb = (double)b;
  double la_lo;
  const double la = log_count(a, &la_lo);
  *h_lo = 0.0;
  // Past the table, log a gets its low part from one Newton step, (a − e^{la})/e^{la}: every
  // term scales as a^-s, so an error δ in log a is an error s·δ relative (large s, a ~ 1e6).
  if (la_lo == 0.0 && a >= kLogTableSize) {
    const double ea = exp(la);
    la_lo = (xa - ea) / ea;
  }
  // Past s·log a > 745 every term underflows (and the derivative coefficients ~s^11 would
  // overflow into inf·0): the range contributes exactly 0 in float64.
  if (s * la > 745.2) return {0.0, 0.0, 0.0};
  // D = log(b/a) from the exact integer difference: log b − log a loses digits when a range is
  // short compared with where it starts (a ≈ 1e15, b − a ≈ 1e9). Dl = (b − a e^{Dh})/(a e^{Dh})
  // (b exact, a·e^{Dh} split by fma) makes a long range's D good to ~1e-16 absolute.
  // The correction's error is exp's, ~1e-16 absolute: it helps only where D > 1 (log1p's own
  // error is relative); below that Dl = 0.
  const double Dh = log1p((double)(b - a) / xa);
  double Dl = 0.0;
  if (Dh > 2.0) {
    const double eD = exp(Dh);
    const double p = xa * eD;
    Dl = ((xb - p) - fma(xa, eD, -p)) / p;
  }
  const double t = 1.0 - s;
  double E[3], E0l;
  em_integral_parts(t, Dh, Dl, E, &E0l);
  // e^{ta} = a^{1-s} from a double-double t·log a (exactly 1 at s = 1).
  const double yh = t * la;
  const double scale = exp_dd(yh, fma(t, la, -yh) + t * la_lo);
  const double fa = exp_dd(-s * la, fma(-s, la, s * la) - s * la_lo);
  // ∫ x^-s (log x)^j = e^{ta} Σ_i C(j,i) a^{j-i} E_i
  const double I0 = scale * E[0];
  const double I0l = fma(scale, E[0], -I0) + scale * E0l;
  const double I1 = kOnlyH ? 0.0 : scale * (la * E[0] + E[1]);
  const double I2 = kOnlyH ? 0.0 : scale * (la * la * E[0] + 2.0 * la * E[1] + E[2]);
  // Endpoint values.
  // log b = la + D as a double-double, for the same reason (short ranges: f(b) ≈ f(a)).
  const double lb = la + Dh;
  const double lb_lo = ((la - lb) + Dh) + (la_lo + Dl);
  const double fb = exp_dd(-s * lb, fma(-s, lb, s * lb) - s * lb_lo);
  double S[3];
  S[0] = I0;
  *h_lo = I0l + 0.5 * (fa + fb);
  S[1] = kOnlyH ? 0.0 : I1 + 0.5 * (fa * la + fb * lb);
  S[2] = kOnlyH ? 0.0 : I2 + 0.5 * (fa * la * la + fb * lb * lb);
  // Bernoulli corrections B_{2i}/(2i)! [f^{(2i-1)}(b) − f^{(2i-1)}(a)]
  const int nj = kOnlyH ? 1 : 3;
  EmPoly P;
  em_poly(s, &P, nj);
  double ca[3], cb[3];
  em_corrections(P, xa, fa, la, ca, nj);
  em_corrections(P, xb, fb, lb, cb, nj);
  *h_lo += cb[0] - ca[0];
  if (!kOnlyH) {
    S[1] += cb[1] - ca[1];
    S[2] += cb[2] - ca[2];
  }
  return {S[0], S[1], S[2]};
}

GSA_HD Sums3 em_range(int64_t a, int64_t b, double s) {
  double lo;
  Sums3 r = em_range_dd(a, b, s, &lo);
  r.h += lo;
  return r;
}

// The direct terms of a range: math::direct_range (the CPU kernel passes a vectorized one).
struct ScalarDirect {
  GSA_HD Sums3 operator()(int64_t a, int64_t b, double s) const { return direct_range(a, b, s); }
};

// Σ_{k=a}^{b} k^-s (log k)^j for j = 0,1,2 with the direct terms from direct(a, b, s); empty
// range (b < a) gives zeros.
// With kOnlyH the L and Q results are not meaningful (the caller wants H alone).
template <bool kOnlyH = false, class Direct>
GSA_HD Sums3 harmonic_range_with(int64_t a, int64_t b, double s, const Direct& direct) {
  if (a < 1) a = 1;
  if (b < a) return {0.0, 0.0, 0.0};
  const int64_t m = em_start(a, s);
  if (b < m + 4) return direct(a, b, s);
  double lo;
  if (m == a) {
    Sums3 r = em_range_dd<kOnlyH>(a, b, s, &lo);
    r.h += lo;
    return r;
  }
  const Sums3 head = direct(a, m - 1, s);
  const Sums3 tail = em_range_dd<kOnlyH>(m, b, s, &lo);
  TwoSumAcc h;
  h.add(tail.h);
  h.add(head.h);
  h.add(lo);
  return {h.value(), head.l + tail.l, head.q + tail.q};
}

// Σ_{k=a}^{b} k^-s (log k)^j for j = 0,1,2; empty range (b < a) gives zeros.
GSA_HD Sums3 harmonic_range(int64_t a, int64_t b, double s) {
  return harmonic_range_with(a, b, s, ScalarDirect{});
}

// H_{d,s}, L_{d,s}, Q_{d,s} (spec §3.1); H_{0,s} = 0.
GSA_HD Sums3 harmonic_sums(int64_t d, double s) { return harmonic_range(1, d, s); }

}  // namespace math
}  // namespace gsa
