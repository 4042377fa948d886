#include "gsa_fast/kernels/tails.hpp"

#include "gsa_fast/math/tails.hpp"
#include "gsa_fast/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define GSA_TAILS_AVX2 1
#endif

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

namespace {

constexpr int64_t kMaxWidth = int64_t(1) << 53;

#if GSA_TAILS_AVX2
// c·log d for 4 int64 widths in [1, 2^52) at a time: the integer becomes a double exactly
// through the 2^52 bias, and log follows fdlibm's e_log.c (x = 2^k·m, m ∈ [√2/2, √2),
// log m = f − (f²/2 − s(f²/2 + R(s²))), s = f/(2 + f), k·ln2 in two parts): < 1 ulp, branch-free.
// Returns false (chunk left to the scalar loop) when a lane is out of [1, 2^52).
__attribute__((target("avx2"), always_inline)) inline bool scaled_log4(const int64_t* d, double c,
                                                                       double* out) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d));
  const __m256i lo_bad = _mm256_cmpgt_epi64(_mm256_set1_epi64x(1), v);
  const __m256i hi_bad = _mm256_cmpgt_epi64(v, _mm256_set1_epi64x((int64_t(1) << 52) - 1));
  if (!_mm256_testz_si256(_mm256_or_si256(lo_bad, hi_bad), _mm256_set1_epi64x(-1))) return false;
  const __m256d two52 = _mm256_set1_pd(4503599627370496.0);
  const __m256i bias = _mm256_castpd_si256(two52);
  const __m256d x = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(v, bias)), two52);
  const __m256i bits = _mm256_castpd_si256(x);
  // m in [1, 2) from the mantissa; k from the exponent field (x ≥ 1: a small nonnegative int).
  __m256d m = _mm256_castsi256_pd(_mm256_or_si256(
      _mm256_and_si256(bits, _mm256_set1_epi64x(0x000fffffffffffffLL)),
      _mm256_set1_epi64x(0x3ff0000000000000LL)));
  const __m256i kbits = _mm256_srli_epi64(bits, 52);
  __m256d k = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(kbits, bias)), two52);
  k = _mm256_sub_pd(k, _mm256_set1_pd(1023.0));
  const __m256d big = _mm256_cmp_pd(m, _mm256_set1_pd(1.4142135623730951), _CMP_GT_OQ);
  m = _mm256_blendv_pd(m, _mm256_mul_pd(m, _mm256_set1_pd(0.5)), big);
  k = _mm256_add_pd(k, _mm256_and_pd(big, _mm256_set1_pd(1.0)));
  const __m256d f = _mm256_sub_pd(m, _mm256_set1_pd(1.0));
  const __m256d hfsq = _mm256_mul_pd(_mm256_set1_pd(0.5), _mm256_mul_pd(f, f));
  const __m256d s = _mm256_div_pd(f, _mm256_add_pd(_mm256_set1_pd(2.0), f));
  const __m256d z = _mm256_mul_pd(s, s);
  const __m256d w = _mm256_mul_pd(z, z);
  const __m256d t1 = _mm256_mul_pd(
      w, _mm256_add_pd(_mm256_set1_pd(3.999999999940941908e-01),
                       _mm256_mul_pd(w, _mm256_add_pd(_mm256_set1_pd(2.222219843214978396e-01),
                                                      _mm256_mul_pd(w, _mm256_set1_pd(1.531383769920937332e-01))))));
  const __m256d t2 = _mm256_mul_pd(
      z, _mm256_add_pd(
             _mm256_set1_pd(6.666666666666735130e-01),
             _mm256_mul_pd(w, _mm256_add_pd(
                                  _mm256_set1_pd(2.857142874366239149e-01),
                                  _mm256_mul_pd(w, _mm256_add_pd(_mm256_set1_pd(1.818357216161805012e-01),
                                                                 _mm256_mul_pd(w, _mm256_set1_pd(1.479819860511658591e-01))))))));
  const __m256d R = _mm256_add_pd(t2, t1);
  // log x = k·ln2_hi − ((hfsq − (s·(hfsq + R) + k·ln2_lo)) − f)
  const __m256d inner = _mm256_add_pd(_mm256_mul_pd(s, _mm256_add_pd(hfsq, R)),
                                      _mm256_mul_pd(k, _mm256_set1_pd(1.90821492927058770002e-10)));
  const __m256d lg = _mm256_sub_pd(_mm256_mul_pd(k, _mm256_set1_pd(6.93147180369123816490e-01)),
                                   _mm256_sub_pd(_mm256_sub_pd(hfsq, inner), f));
  _mm256_storeu_pd(out, _mm256_mul_pd(lg, _mm256_set1_pd(c)));
  return true;
}

// Whole chunks of 4 from i; returns where it stopped (a chunk with a lane out of [1, 2^52), or
// fewer than 4 left).
__attribute__((target("avx2"))) int64_t scaled_log_run(const int64_t* d, int64_t i, int64_t hi,
                                                       double c, double* out) {
  for (; i + 4 <= hi; i += 4)
    if (!scaled_log4(d + i, c, out + i)) break;
  return i;
}

// The same arithmetic 8 lanes wide with AVX-512 (F + DQ): int64 → double and the exponent and
// mantissa come from single instructions; operation for operation as scaled_log4, so both paths
// give identical results.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12's getmant/getexp headers
__attribute__((target("avx512f,avx512dq"))) int64_t scaled_log_run512(const int64_t* d, int64_t i,
                                                                       int64_t hi, double c,
                                                                       double* out) {
  const __m512i one = _mm512_set1_epi64(1), top = _mm512_set1_epi64((int64_t(1) << 52) - 1);
  const __m512d vc = _mm512_set1_pd(c), half = _mm512_set1_pd(0.5), onef = _mm512_set1_pd(1.0);
  for (; i + 8 <= hi; i += 8) {
    const __m512i v = _mm512_loadu_si512(reinterpret_cast<const void*>(d + i));
    if (_mm512_cmplt_epi64_mask(v, one) | _mm512_cmpgt_epi64_mask(v, top)) break;
    const __m512d x = _mm512_cvtepi64_pd(v);
    __m512d m = _mm512_getmant_pd(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
    __m512d k = _mm512_getexp_pd(x);
    const __mmask8 big = _mm512_cmp_pd_mask(m, _mm512_set1_pd(1.4142135623730951), _CMP_GT_OQ);
    m = _mm512_mask_mul_pd(m, big, m, half);
    k = _mm512_mask_add_pd(k, big, k, onef);
    const __m512d f = _mm512_sub_pd(m, onef);
    const __m512d hfsq = _mm512_mul_pd(half, _mm512_mul_pd(f, f));
    const __m512d s = _mm512_div_pd(f, _mm512_add_pd(_mm512_set1_pd(2.0), f));
    const __m512d z = _mm512_mul_pd(s, s);
    const __m512d w = _mm512_mul_pd(z, z);
    const __m512d t1 = _mm512_mul_pd(
        w, _mm512_add_pd(_mm512_set1_pd(3.999999999940941908e-01),
                         _mm512_mul_pd(w, _mm512_add_pd(_mm512_set1_pd(2.222219843214978396e-01),
                                                        _mm512_mul_pd(w, _mm512_set1_pd(1.531383769920937332e-01))))));
    const __m512d t2 = _mm512_mul_pd(
        z, _mm512_add_pd(
               _mm512_set1_pd(6.666666666666735130e-01),
               _mm512_mul_pd(w, _mm512_add_pd(
                                    _mm512_set1_pd(2.857142874366239149e-01),
                                    _mm512_mul_pd(w, _mm512_add_pd(_mm512_set1_pd(1.818357216161805012e-01),
                                                                   _mm512_mul_pd(w, _mm512_set1_pd(1.479819860511658591e-01))))))));
    const __m512d R = _mm512_add_pd(t2, t1);
    const __m512d inner = _mm512_add_pd(_mm512_mul_pd(s, _mm512_add_pd(hfsq, R)),
                                        _mm512_mul_pd(k, _mm512_set1_pd(1.90821492927058770002e-10)));
    const __m512d lg = _mm512_sub_pd(_mm512_mul_pd(k, _mm512_set1_pd(6.93147180369123816490e-01)),
                                     _mm512_sub_pd(_mm512_sub_pd(hfsq, inner), f));
    _mm512_storeu_pd(out + i, _mm512_mul_pd(lg, vc));
  }
  return i;
}
#pragma GCC diagnostic pop

const bool kTailsHaveAvx2 = __builtin_cpu_supports("avx2");
const bool kTailsHaveAvx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
#endif

}  // namespace

int64_t scaled_log_widths(const int64_t* d, int64_t n, double c, double* out, int nthreads) {
  std::atomic<int64_t> first_bad{std::numeric_limits<int64_t>::max()};
  parallel_for(n, nthreads, 1 << 16, [&](int64_t lo, int64_t hi) {
    // Scalar c·log d with the range check for [i, end); false at the first bad width.
    auto scalar = [&](int64_t i, int64_t end) {
      for (; i < end; ++i) {
        if (d[i] < 1 || d[i] > kMaxWidth) {
          int64_t cur = first_bad.load();
          while (i < cur && !first_bad.compare_exchange_weak(cur, i)) {
          }
          return false;
        }
        out[i] = c * std::log((double)d[i]);
      }
      return true;
    };
    int64_t i = lo;
#if GSA_TAILS_AVX2
    if (kTailsHaveAvx512) i = scaled_log_run512(d, i, hi, c, out);
    if (kTailsHaveAvx2)
      while (i + 4 <= hi) {
        i = scaled_log_run(d, i, hi, c, out);
        if (i + 4 > hi) break;
        if (!scalar(i, i + 4)) return;  // the chunk with a width ≥ 2^52 or out of range
        i += 4;
      }
#endif
    scalar(i, hi);
  });
  const int64_t b = first_bad.load();
  return b == std::numeric_limits<int64_t>::max() ? -1 : b;
}

}  // namespace cpu
}  // namespace gsa
