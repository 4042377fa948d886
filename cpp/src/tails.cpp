#include "gsa_fast/kernels/tails.hpp"

#include "gsa_fast/math/tails.hpp"
#include "gsa_fast/parallel.hpp"
#include "gsa_fast/simd.hpp"

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
// fdlibm's e_log.c core, branch-free, for any GCC vector of doubles (4 lanes: AVX2, 8: AVX-512;
// inlined into each target function and compiled for it). Input: x = 2^k·m with m ∈ [1, 2) and
// k as doubles; m > √2 is halved (k + 1) so that m ∈ [√2/2, √2); then with f = m − 1,
// s = f/(2 + f): log x = k·ln2_hi − ((f²/2 − (s(f²/2 + R(s²)) + k·ln2_lo)) − f), < 1 ulp.
// In place (m becomes log x); references keep wide vectors out of the baseline calling convention.
template <class V>
__attribute__((always_inline)) inline void fdlibm_log(V& m, V k) {
  const V one = m * 0.0 + 1.0;
  const auto big = m > 1.4142135623730951;
  m = big ? m * 0.5 : m;
  k = big ? k + one : k;
  const V f = m - 1.0;
  const V hfsq = 0.5 * (f * f);
  const V s = f / (2.0 + f);
  const V z = s * s;
  const V w = z * z;
  const V t1 = w * (3.999999999940941908e-01 + w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01));
  const V t2 = z * (6.666666666666735130e-01 +
                    w * (2.857142874366239149e-01 + w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
  const V R = t2 + t1;
  const V inner = s * (hfsq + R) + k * 1.90821492927058770002e-10;
  m = k * 6.93147180369123816490e-01 - ((hfsq - inner) - f);
}

typedef double v8d __attribute__((vector_size(64)));

// c·log d, 4 int64 widths in [1, 2^52) at a time: the integer becomes a double exactly through
// the 2^52 bias; m and k from the bit fields. Returns false (chunk left to the scalar loop) when a
// lane is out of [1, 2^52).
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
  v4d m = (v4d)_mm256_castsi256_pd(_mm256_or_si256(
      _mm256_and_si256(bits, _mm256_set1_epi64x(0x000fffffffffffffLL)),
      _mm256_set1_epi64x(0x3ff0000000000000LL)));
  const __m256i kbits = _mm256_srli_epi64(bits, 52);
  const __m256d k = _mm256_sub_pd(_mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(kbits, bias)), two52),
                                  _mm256_set1_pd(1023.0));
  fdlibm_log(m, (v4d)k);
  _mm256_storeu_pd(out, _mm256_mul_pd((__m256d)m, _mm256_set1_pd(c)));
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

// The same 8 lanes wide with AVX-512 (F + DQ): int64 → double, mantissa and exponent are single
// instructions; the log itself is the same code, so both paths give identical results.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC 12's getmant/getexp headers
__attribute__((target("avx512f,avx512dq"))) int64_t scaled_log_run512(const int64_t* d, int64_t i,
                                                                       int64_t hi, double c,
                                                                       double* out) {
  const __m512i one = _mm512_set1_epi64(1), top = _mm512_set1_epi64((int64_t(1) << 52) - 1);
  for (; i + 8 <= hi; i += 8) {
    const __m512i v = _mm512_loadu_si512(reinterpret_cast<const void*>(d + i));
    if (_mm512_cmplt_epi64_mask(v, one) | _mm512_cmpgt_epi64_mask(v, top)) break;
    const __m512d x = _mm512_cvtepi64_pd(v);
    v8d m = (v8d)_mm512_getmant_pd(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
    fdlibm_log(m, (v8d)_mm512_getexp_pd(x));
    _mm512_storeu_pd(out + i, _mm512_mul_pd((__m512d)m, _mm512_set1_pd(c)));
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
          atomic_min(first_bad, i);
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
