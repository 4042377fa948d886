#include "gsa_fast/kernels/sums.hpp"

#include "gsa_fast/math/harmonic.hpp"
#include "gsa_fast/parallel.hpp"
#include "gsa_fast/simd.hpp"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define GSA_SUMS_AVX2 1
#endif

namespace gsa {
namespace cpu {

namespace {

#if GSA_SUMS_AVX2
// The direct terms k = a..b (b ≤ 64: the double-double log table, read 4 entries at a time) four k at a time: the same
// terms as math::direct_range — k^-s = exp(y_hi)·(1 + y_lo) with y = −s log k in double-double —
// through a 4-lane exp (Cody–Waite reduction with the argument's low part folded in, degree-13
// Taylor polynomial on |r| ≤ 0.35 + ε, truncation < 5e-18; a few tenths of an ulp of rounding)
// and lane-wise TwoSum accumulation. Returns false (caller falls back to the scalar loop) when a
// term could leave the normal range (s·log b > 700).
struct Avx2Head {
  // TwoSum per lane: s' = s + x, c += (s − (s' − z)) + (x − z), z = s' − s.
  __attribute__((target("avx2,fma"))) static inline void two_sum(__m256d& sum, __m256d& c,
                                                                  __m256d x) {
    const __m256d t = _mm256_add_pd(sum, x);
    const __m256d z = _mm256_sub_pd(t, sum);
    c = _mm256_add_pd(c, _mm256_add_pd(_mm256_sub_pd(sum, _mm256_sub_pd(t, z)),
                                       _mm256_sub_pd(x, z)));
    sum = t;
  }
  __attribute__((target("avx2,fma"))) static bool run(int64_t a, int64_t b, double s,
                                                       math::Sums3* out) {
    if (b + 3 >= math::kLogTableSize || s * math::kLogHi[b] > 700.0) return false;
    const __m256d vs = _mm256_set1_pd(-s);
    const __m256d log2e = _mm256_set1_pd(1.4426950408889634);
    const __m256d ln2hi = _mm256_set1_pd(0.6931471805599453);
    const __m256d ln2lo = _mm256_set1_pd(2.3190468138462996e-17);
    __m256d hs = _mm256_setzero_pd(), hc = hs, ls = hs, lc = hs, qs = hs, qc = hs;
    const __m256d vb = _mm256_set1_pd((double)b);
    __m256d kv = _mm256_setr_pd((double)a, (double)a + 1.0, (double)a + 2.0, (double)a + 3.0);
    for (int64_t k0 = a; k0 <= b; k0 += 4) {
      // Lanes past b (k0 + 3 ≤ b + 3 < kLogTableSize) read real table entries and are zeroed.
      const __m256d u = _mm256_loadu_pd(math::kLogHi + k0);
      const __m256d ulo = _mm256_loadu_pd(math::kLogLo + k0);
      const __m256d mask = _mm256_cmp_pd(kv, vb, _CMP_LE_OQ);
      kv = _mm256_add_pd(kv, _mm256_set1_pd(4.0));
      const __m256d yh = _mm256_mul_pd(vs, u);
      const __m256d yl = _mm256_fmadd_pd(vs, ulo, _mm256_fmsub_pd(vs, u, yh));
      const __m256d nf = _mm256_round_pd(_mm256_mul_pd(yh, log2e),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      __m256d r = _mm256_fnmadd_pd(nf, ln2hi, yh);
      r = _mm256_fnmadd_pd(nf, ln2lo, r);
      r = _mm256_add_pd(r, yl);
      // e^r = 1 + r + r²·(1/2! + r/3! + … + r^11/13!)
      __m256d p = _mm256_set1_pd(1.0 / 6227020800.0);
      p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 479001600.0));
      p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 39916800.0));
      p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 3628800.0));
      p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 362880.0));
      p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 40320.0));
      p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 5040.0));
      p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 720.0));
      p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 120.0));
      p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 24.0));
      p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 6.0));
      p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(0.5));
      const __m256d r2 = _mm256_mul_pd(r, r);
      p = _mm256_add_pd(_mm256_set1_pd(1.0), _mm256_fmadd_pd(p, r2, r));
      // 2^n through the exponent field (−1010 < n ≤ 0 here).
      const __m128i ni = _mm256_cvtpd_epi32(nf);
      const __m256i e = _mm256_slli_epi64(
          _mm256_add_epi64(_mm256_cvtepi32_epi64(ni), _mm256_set1_epi64x(1023)), 52);
      __m256d w = _mm256_mul_pd(p, _mm256_castsi256_pd(e));
      w = _mm256_and_pd(w, mask);
      const __m256d wl = _mm256_mul_pd(w, u);
      const __m256d wq = _mm256_mul_pd(wl, u);
      two_sum(hs, hc, w);
      two_sum(ls, lc, wl);
      two_sum(qs, qc, wq);
    }
    alignas(32) double v[6][4];
    _mm256_store_pd(v[0], hs);
    _mm256_store_pd(v[1], hc);
    _mm256_store_pd(v[2], ls);
    _mm256_store_pd(v[3], lc);
    _mm256_store_pd(v[4], qs);
    _mm256_store_pd(v[5], qc);
    double res[3];
    for (int j = 0; j < 3; ++j) {
      math::TwoSumAcc acc;
      for (int i = 0; i < 4; ++i) acc.add(v[2 * j][i]);
      acc.c += (v[2 * j + 1][0] + v[2 * j + 1][1]) + (v[2 * j + 1][2] + v[2 * j + 1][3]);
      res[j] = acc.value();
    }
    *out = {res[0], res[1], res[2]};
    return true;
  }
};

const bool kHaveAvx2Fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif

// The direct-term functor for math::harmonic_range_with: the 4-lane head where the CPU has
// AVX2/FMA and the range lies in the log table, the header's scalar loop otherwise.
struct CpuDirect {
  math::Sums3 operator()(int64_t a, int64_t b, double s) const {
#if GSA_SUMS_AVX2
    math::Sums3 r;
    if (kHaveAvx2Fma && Avx2Head::run(a, b, s, &r)) return r;
#endif
    return math::direct_range(a, b, s);
  }
};

}  // namespace

namespace {

// One chunk of pairs. Cloned for x86-64-v3 (AVX2 + FMA), where the header's fma() calls become
// instructions and the 4-lane head inlines; the default clone calls libm's fma.
GSA_CLONES("arch=x86-64-v3")
void range_chunk(const int64_t* a, const int64_t* b, const double* s, int64_t lo, int64_t hi,
                 double* out_h, double* out_l, double* out_q) {
  const CpuDirect direct;
  if (out_h && !out_l && !out_q) {  // harmonic(power=0): the Euler–Maclaurin part for H alone
    for (int64_t i = lo; i < hi; ++i)
      out_h[i] = math::harmonic_range_with<true>(a[i], b[i], s[i], direct).h;
    return;
  }
  for (int64_t i = lo; i < hi; ++i) {
    const math::Sums3 r = math::harmonic_range_with(a[i], b[i], s[i], direct);
    if (out_h) out_h[i] = r.h;
    if (out_l) out_l[i] = r.l;
    if (out_q) out_q[i] = r.q;
  }
}

}  // namespace

void harmonic_range(const int64_t* a, const int64_t* b, const double* s, int64_t n,
                    double* out_h, double* out_l, double* out_q, int nthreads) {
  // parallel_for starts its threads per call (tens of µs each, more on a loaded machine): a chunk
  // is 2,048 pairs, ~0.3 ms of work at ~150 ns per pair, so small batches stay on one thread.
  parallel_for(n, nthreads, 2048, [&](int64_t lo, int64_t hi) {
    range_chunk(a, b, s, lo, hi, out_h, out_l, out_q);
  });
}

}  // namespace cpu
}  // namespace gsa
