// A float32 × float64 GEMM for the chain scan (depth_scan.inl): Y = M Q with M float32 (the
// factor, read in place) and Q float64 (the previous step's panel), in float64 arithmetic. BLAS
// has no mixed-precision GEMM, and widening each chunk of M into a float64 buffer for dgemm
// makes a second pass over it (dgemm packs it again). Here the factor's rows are converted
// straight into the packed float64 strips of the micro-kernel (one pass), and Q is packed once
// per step, by the step that produces it, into micro-panels of NR columns.
//
// Layout and blocking (Goto style): the rows of a chunk are cut into strips of kMr = 8 rows and
// the inner dimension into blocks of kKc; a packed strip holds a[p·8 + i] = double(M[r+i, c+p]),
// a packed panel b[p·NR + j] = Q[c+p, j0+j] (zeros beyond the panel's columns). For each block:
// pack the chunk's strips (L2), then for each NR panel (its kKc × NR block stays in L1) run the
// 8 × NR register-blocked micro-kernel over every strip.
//
// Sum order: within each kKc block of the inner index, an output element is the chain
// s ← fma(a_p, b_p, s) from s = 0 in increasing p; the blocks' sums are then added in block
// order, c = ((s_0 + s_1) + s_2) + … (blocked summation: the rounding error grows with kKc plus
// the number of blocks, not with n; one chain over all of n = 1024 was 1.5× less accurate against
// a long-double reference). The AVX-512, AVX2 and portable kernels all do exactly that, so the
// product is bitwise the same on every kernel, for every chunking and any number of workers.
//
// Included by depth_scan.inl inside depth.cpp's anonymous namespace.

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#include <immintrin.h>
#define GSA_SCAN_X86 1
#else
#define GSA_SCAN_X86 0
#endif

constexpr int kMr = 8;         // rows of a packed strip (every kernel)
constexpr int64_t kKc = 256;   // inner-dimension block: an NR × kKc panel block is 16–32 kB (L1)
constexpr int kNrMax = 16;

// c (8 × NR, row-major, ld ldc) = (first ? 0 : c) + the block's fma chains (module comment).
using ScanMicroKernel = void (*)(int64_t kc, const double* a, const double* b, double* c,
                                 int64_t ldc, bool first);

// Portable: std::fma keeps the single rounding of the SIMD kernels (bitwise the same result).
void scan_kernel_scalar(int64_t kc, const double* a, const double* b, double* c, int64_t ldc,
                        bool first) {
  constexpr int NR = 8;
  double acc[kMr][NR] = {};
  for (int64_t p = 0; p < kc; ++p)
    for (int i = 0; i < kMr; ++i) {
      const double ai = a[p * kMr + i];
      for (int j = 0; j < NR; ++j) acc[i][j] = std::fma(ai, b[p * NR + j], acc[i][j]);
    }
  for (int i = 0; i < kMr; ++i)
    for (int j = 0; j < NR; ++j) c[i * ldc + j] = first ? acc[i][j] : c[i * ldc + j] + acc[i][j];
}

#if GSA_SCAN_X86
// AVX2 + FMA: 8 × 8 as two 4 × 8 halves (8 ymm accumulators each, 2 panel loads and 4
// broadcasts per 8 fmas).
__attribute__((target("avx2,fma"))) void scan_kernel_avx2(int64_t kc, const double* a,
                                                          const double* b, double* c,
                                                          int64_t ldc, bool first) {
  for (int h = 0; h < 2; ++h) {
    const double* ah = a + 4 * h;
    double* ch = c + 4 * h * ldc;
    __m256d c00, c01, c10, c11, c20, c21, c30, c31;
    c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = _mm256_setzero_pd();
    for (int64_t p = 0; p < kc; ++p) {
      const __m256d b0 = _mm256_loadu_pd(b + p * 8), b1 = _mm256_loadu_pd(b + p * 8 + 4);
      const double* ap = ah + p * kMr;
      __m256d x = _mm256_broadcast_sd(ap);
      c00 = _mm256_fmadd_pd(x, b0, c00), c01 = _mm256_fmadd_pd(x, b1, c01);
      x = _mm256_broadcast_sd(ap + 1);
      c10 = _mm256_fmadd_pd(x, b0, c10), c11 = _mm256_fmadd_pd(x, b1, c11);
      x = _mm256_broadcast_sd(ap + 2);
      c20 = _mm256_fmadd_pd(x, b0, c20), c21 = _mm256_fmadd_pd(x, b1, c21);
      x = _mm256_broadcast_sd(ap + 3);
      c30 = _mm256_fmadd_pd(x, b0, c30), c31 = _mm256_fmadd_pd(x, b1, c31);
    }
    const __m256d acc[8] = {c00, c01, c10, c11, c20, c21, c30, c31};
    for (int q = 0; q < 8; ++q) {
      double* d = ch + (q / 2) * ldc + (q % 2) * 4;
      _mm256_storeu_pd(d, first ? acc[q] : _mm256_add_pd(_mm256_loadu_pd(d), acc[q]));
    }
  }
}

// AVX-512F: 8 × 16 (16 zmm accumulators; 2 panel loads and 8 broadcasts per 16 fmas).
#define GSA_SCAN_ROW(i)                                            \
  {                                                                \
    const __m512d x = _mm512_set1_pd(ap[i]);                       \
    c##i##0 = _mm512_fmadd_pd(x, b0, c##i##0);                     \
    c##i##1 = _mm512_fmadd_pd(x, b1, c##i##1);                     \
  }
__attribute__((target("avx512f"))) void scan_kernel_avx512(int64_t kc, const double* a,
                                                           const double* b, double* c,
                                                           int64_t ldc, bool first) {
  __m512d c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
  c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = _mm512_setzero_pd();
  c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = _mm512_setzero_pd();
  for (int64_t p = 0; p < kc; ++p) {
    const __m512d b0 = _mm512_loadu_pd(b + p * 16), b1 = _mm512_loadu_pd(b + p * 16 + 8);
    const double* ap = a + p * kMr;
    GSA_SCAN_ROW(0) GSA_SCAN_ROW(1) GSA_SCAN_ROW(2) GSA_SCAN_ROW(3)
    GSA_SCAN_ROW(4) GSA_SCAN_ROW(5) GSA_SCAN_ROW(6) GSA_SCAN_ROW(7)
  }
  const __m512d acc[16] = {c00, c01, c10, c11, c20, c21, c30, c31,
                          c40, c41, c50, c51, c60, c61, c70, c71};
  for (int q = 0; q < 16; ++q) {
    double* d = c + (q / 2) * ldc + (q % 2) * 8;
    _mm512_storeu_pd(d, first ? acc[q] : _mm512_add_pd(_mm512_loadu_pd(d), acc[q]));
  }
}
#undef GSA_SCAN_ROW

// 8 full rows of a row-major float32 block (unit column stride): 8 × 8 transposes in AVX, each
// column widened to float64 as it is stored.
__attribute__((target("avx2"))) int64_t pack_rows8_avx(const float* src, int64_t rs, int64_t kc,
                                                      double* dst) {
  int64_t p = 0;
  for (; p + 8 <= kc; p += 8) {
    __m256 r0 = _mm256_loadu_ps(src + p), r1 = _mm256_loadu_ps(src + rs + p);
    __m256 r2 = _mm256_loadu_ps(src + 2 * rs + p), r3 = _mm256_loadu_ps(src + 3 * rs + p);
    __m256 r4 = _mm256_loadu_ps(src + 4 * rs + p), r5 = _mm256_loadu_ps(src + 5 * rs + p);
    __m256 r6 = _mm256_loadu_ps(src + 6 * rs + p), r7 = _mm256_loadu_ps(src + 7 * rs + p);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
    const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
    const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
    const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    const __m256 col[8] = {
        _mm256_permute2f128_ps(u0, u4, 0x20), _mm256_permute2f128_ps(u1, u5, 0x20),
        _mm256_permute2f128_ps(u2, u6, 0x20), _mm256_permute2f128_ps(u3, u7, 0x20),
        _mm256_permute2f128_ps(u0, u4, 0x31), _mm256_permute2f128_ps(u1, u5, 0x31),
        _mm256_permute2f128_ps(u2, u6, 0x31), _mm256_permute2f128_ps(u3, u7, 0x31)};
    double* d = dst + p * kMr;
    for (int q = 0; q < 8; ++q) {
      _mm256_storeu_pd(d + q * kMr, _mm256_cvtps_pd(_mm256_castps256_ps128(col[q])));
      _mm256_storeu_pd(d + q * kMr + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(col[q], 1)));
    }
  }
  return p;
}
#endif

enum class ScanIsa { kScalar, kAvx2, kAvx512 };

ScanIsa scan_isa() {
#if GSA_SCAN_X86
  static const ScanIsa isa = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return ScanIsa::kAvx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return ScanIsa::kAvx2;
    return ScanIsa::kScalar;
  }();
  return isa;
#else
  return ScanIsa::kScalar;
#endif
}

int scan_panel_nr(ScanIsa isa) { return isa == ScanIsa::kAvx512 ? 16 : 8; }

ScanMicroKernel scan_micro_kernel(ScanIsa isa) {
#if GSA_SCAN_X86
  if (isa == ScanIsa::kAvx512) return scan_kernel_avx512;
  if (isa == ScanIsa::kAvx2) return scan_kernel_avx2;
#endif
  (void)isa;
  return scan_kernel_scalar;
}

// One packed strip: dst[p·8 + i] = double(src[i·rs + p·cs]) for p < kc, i < rows (≤ 8); rows
// past `rows` are zero (their products are computed and dropped).
void pack_strip_f32(const float* src, int64_t rs, int64_t cs, int rows, int64_t kc, double* dst,
                    ScanIsa isa) {
  int64_t p0 = 0;
#if GSA_SCAN_X86
  if (rows == kMr && cs == 1 && isa != ScanIsa::kScalar) p0 = pack_rows8_avx(src, rs, kc, dst);
#endif
  (void)isa;
  for (int64_t p = p0; p < kc; ++p) {
    double* d = dst + p * kMr;
    const float* s = src + p * cs;
    int i = 0;
    for (; i < rows; ++i) d[i] = (double)s[i * rs];
    for (; i < kMr; ++i) d[i] = 0.0;
  }
}

// Q packed for the next step from rows [r0, r0+nr) of the panel Yᵀ (k × m, ld k): panel jp holds
// columns jp·NR … of Q in qp[jp·m·NR + p·NR + j] (zero past k).
void pack_q_rows(const double* Yt, int64_t k, int64_t m, int64_t r0, int64_t nr, int NR,
                 double* qp) {
  for (int64_t j0 = 0, jp = 0; j0 < k; j0 += NR, ++jp) {
    const int64_t w = std::min<int64_t>(NR, k - j0);
    double* dst = qp + jp * m * NR;
    for (int64_t p = r0; p < r0 + nr; ++p) {
      const double* s = Yt + p * k + j0;
      double* d = dst + p * NR;
      int64_t j = 0;
      for (; j < w; ++j) d[j] = s[j];
      for (; j < NR; ++j) d[j] = 0.0;
    }
  }
}

// Doubles of packed Q for an m-row panel of k columns; of packed strips for a chunk of nr rows.
int64_t packed_q_size(int64_t m, int64_t k, int NR) { return m * ((k + NR - 1) / NR) * NR; }
int64_t packed_strip_size(int64_t nr) { return (nr + kMr - 1) / kMr * kMr * kKc; }

// C (nr × k, row-major, ld k) = M[r0 : r0+nr, :] · Q, float32 M (rows rs, columns cs apart), Q
// packed by pack_q_rows (n = M.cols rows); ap: packed_strip_size(nr) doubles of workspace.
void gemm_f32_f64(const float* M, int64_t rs, int64_t cs, int64_t nr, int64_t n, const double* qp,
                  int64_t k, double* C, double* ap, ScanIsa isa) {
  const int NR = scan_panel_nr(isa);
  const ScanMicroKernel kern = scan_micro_kernel(isa);
  const int64_t strips = (nr + kMr - 1) / kMr;
  double tile[kMr * kNrMax] = {};
  for (int64_t pc = 0; pc < n; pc += kKc) {
    const int64_t kc = std::min(kKc, n - pc);
    const bool first = pc == 0;
    for (int64_t s = 0; s < strips; ++s)
      pack_strip_f32(M + s * kMr * rs + pc * cs, rs, cs, (int)std::min<int64_t>(kMr, nr - s * kMr),
                     kc, ap + s * kMr * kc, isa);
    for (int64_t j0 = 0, jp = 0; j0 < k; j0 += NR, ++jp) {
      const double* b = qp + jp * n * NR + pc * NR;
      const int64_t w = std::min<int64_t>(NR, k - j0);
      for (int64_t s = 0; s < strips; ++s) {
        const int64_t rows = std::min<int64_t>(kMr, nr - s * kMr);
        double* c = C + s * kMr * k + j0;
        if (rows == kMr && w == NR) {
          kern(kc, ap + s * kMr * kc, b, c, k, first);
          continue;
        }
        if (!first)  // an edge tile: through a full 8 × NR tile
          for (int64_t i = 0; i < rows; ++i)
            for (int64_t j = 0; j < w; ++j) tile[i * NR + j] = c[i * k + j];
        kern(kc, ap + s * kMr * kc, b, tile, NR, first);
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t j = 0; j < w; ++j) c[i * k + j] = tile[i * NR + j];
      }
    }
  }
}
