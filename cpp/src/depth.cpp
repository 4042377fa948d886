// Depth spectra kernels (depth-math spec §4, §7.1, §8.5). See kernels/depth.hpp.
#include "gsa_fast/kernels/depth.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "gsa_fast/linalg/blas_threads.hpp"
#include "gsa_fast/check.hpp"
#include "gsa_fast/linalg/lapack.hpp"
#include "gsa_fast/math/depth.hpp"
#include "gsa_fast/parallel.hpp"
#include "gsa_fast/simd.hpp"

namespace gsa {
namespace cpu {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kBlockBytes = 256 * 1024;  // conversion block: stays in L2

inline double elem(const FactorRef& m, int64_t i, int64_t j) {
  const int64_t off = i * m.rs + j * m.cs;
  return m.f32 ? (double)static_cast<const float*>(m.data)[off]
               : static_cast<const double*>(m.data)[off];
}

// Y (rows × w, column-major, ld rows) = M · Q (Q: cols × w, column-major, ld cols), float64.
// Direct dgemm when M is float64 with a unit stride; otherwise M is converted to float64 one row
// block (or column block, for column-major M) at a time.
void gemm_f64(const FactorRef& M, const double* Q, int64_t w, double* Y, std::vector<double>& buf) {
  const int m = (int)M.rows, n = (int)M.cols, ww = (int)w;
  const double one = 1.0, zero = 0.0;
  if (!M.f32 && M.cs == 1 && M.rs >= std::max<int64_t>(1, M.cols)) {
    const int lda = (int)M.rs;
    scipy_dgemm_("T", "N", &m, &ww, &n, &one, static_cast<const double*>(M.data), &lda, Q, &n,
                 &zero, Y, &m, 1, 1);
    return;
  }
  if (!M.f32 && M.rs == 1 && M.cs >= std::max<int64_t>(1, M.rows)) {
    const int lda = (int)M.cs;
    scipy_dgemm_("N", "N", &m, &ww, &n, &one, static_cast<const double*>(M.data), &lda, Q, &n,
                 &zero, Y, &m, 1, 1);
    return;
  }
  if (M.rs == 1 && M.cs != 1) {  // column-major storage: convert column blocks, accumulate
    const int64_t cb = std::max<int64_t>(1, kBlockBytes / (8 * std::max<int64_t>(1, M.rows)));
    buf.resize((size_t)(M.rows * cb));
    for (int64_t c0 = 0; c0 < M.cols; c0 += cb) {
      const int nc = (int)std::min(cb, M.cols - c0);
      for (int64_t j = 0; j < nc; ++j)
        for (int64_t i = 0; i < M.rows; ++i) buf[(size_t)(i + j * M.rows)] = elem(M, i, c0 + j);
      const double beta = c0 == 0 ? 0.0 : 1.0;
      scipy_dgemm_("N", "N", &m, &ww, &nc, &one, buf.data(), &m, Q + c0, &n, &beta, Y, &m, 1, 1);
    }
    return;
  }
  // row blocks: buf holds rows [r0, r0 + nr) as a column-major cols × nr matrix (ld cols)
  const int64_t rb = std::max<int64_t>(1, kBlockBytes / (8 * std::max<int64_t>(1, M.cols)));
  buf.resize((size_t)(M.cols * rb));
  for (int64_t r0 = 0; r0 < M.rows; r0 += rb) {
    const int nr = (int)std::min(rb, M.rows - r0);
    if (M.f32 && M.cs == 1) {
      for (int64_t i = 0; i < nr; ++i) {
        const float* src = static_cast<const float*>(M.data) + (r0 + i) * M.rs;
        double* dst = buf.data() + i * M.cols;
        for (int64_t j = 0; j < M.cols; ++j) dst[j] = (double)src[j];
      }
    } else {
      for (int64_t i = 0; i < nr; ++i)
        for (int64_t j = 0; j < M.cols; ++j) buf[(size_t)(i * M.cols + j)] = elem(M, r0 + i, j);
    }
    scipy_dgemm_("T", "N", &nr, &ww, &n, &one, buf.data(), &n, Q, &n, &zero, Y + r0, &m, 1, 1);
  }
}

bool blas_layout(const FactorRef& M) {
  return (M.cs == 1 && M.rs >= std::max<int64_t>(1, M.cols)) ||
         (M.rs == 1 && M.cs >= std::max<int64_t>(1, M.rows));
}

double frob(const double* y, int64_t n) {  // scaled, never overflows
  double scale = 0.0, ssq = 1.0;
  for (int64_t i = 0; i < n; ++i) {
    const double a = std::fabs(y[i]);
    if (a == 0.0) continue;
    if (scale < a) {
      const double r = scale / a;
      ssq = 1.0 + ssq * r * r;
      scale = a;
    } else {
      const double r = a / scale;
      ssq += r * r;
    }
  }
  return scale * std::sqrt(ssq);
}

struct QrWork {
  std::vector<double> tau, work;
  int lwork = 0;
  void reserve(int m, int k) {
    tau.resize((size_t)k);
    int info = 0, lw = -1;
    double q1 = 0, q2 = 0;
    std::vector<double> dummy(1);
    scipy_dgeqrf_(&m, &k, dummy.data(), &m, tau.data(), &q1, &lw, &info);
    scipy_dorgqr_(&m, &k, &k, dummy.data(), &m, tau.data(), &q2, &lw, &info);
    const int need = (int)std::max({q1, q2, 1.0});
    if (need > lwork) {
      lwork = need;
      work.resize((size_t)lwork);
    }
  }
};

#include "depth_scan.inl"

// Singular values (descending) of a column-major m×n float64 matrix, destroyed.
int svals(double* a, int m, int n, double* s, std::vector<double>& work, std::vector<int>& iwork) {
  const int mn = std::min(m, n);
  iwork.resize((size_t)(8 * std::max(1, mn)));
  int info = 0, lw = -1, one = 1;
  double q = 0, du = 0;
  scipy_dgesdd_("N", &m, &n, a, &m, s, &du, &one, &du, &one, &q, &lw, iwork.data(), &info, 1);
  lw = (int)q + 1;
  if ((int)work.size() < lw) work.resize((size_t)lw);
  scipy_dgesdd_("N", &m, &n, a, &m, s, &du, &one, &du, &one, work.data(), &lw, iwork.data(),
                &info, 1);
  return info;
}

void prefix_one(const FactorRef* f, int64_t L, const uint8_t* take, int64_t k, double* out) {
  int64_t nmax = f[0].cols;
  for (int64_t l = 0; l < L; ++l) nmax = std::max(nmax, f[l].rows);
  const int64_t n0 = f[0].cols;
  std::vector<double> P((size_t)(nmax * n0), 0.0), Y((size_t)(nmax * n0)), T, buf, s, work;
  std::vector<int> iwork;
  for (int64_t j = 0; j < n0; ++j) P[(size_t)(j + j * n0)] = 1.0;
  double a = 0.0;
  bool zero = false, bad = false;
  int64_t slot = 0;
  for (int64_t l = 0; l < L; ++l) {
    const int64_t m = f[l].rows;
    if (!zero && !bad) {
      gemm_f64(f[l], P.data(), n0, Y.data(), buf);
      const double nrm = frob(Y.data(), m * n0);
      if (!std::isfinite(nrm)) {
        bad = true;
      } else if (nrm == 0.0) {
        zero = true;
      } else {
        for (int64_t i = 0; i < m * n0; ++i) Y[(size_t)i] /= nrm;
        a += std::log(nrm);
        std::swap(P, Y);
      }
    }
    if (!take[l]) continue;
    double* o = out + slot * k;
    ++slot;
    if (bad || zero) {
      for (int64_t j = 0; j < k; ++j) o[j] = bad ? kNaN : kNegInf;
      continue;
    }
    T.assign(P.begin(), P.begin() + m * n0);
    s.resize((size_t)std::min(m, n0));
    if (svals(T.data(), (int)m, (int)n0, s.data(), work, iwork) != 0) {
      for (int64_t j = 0; j < k; ++j) o[j] = kNaN;
      continue;
    }
    for (int64_t j = 0; j < k; ++j) o[j] = s[(size_t)j] > 0.0 ? a + std::log(s[(size_t)j]) : kNegInf;
  }
}

// Column-major float64 copy of a factor; false if it holds NaN/Inf.
bool load_colmajor(const FactorRef& M, double* dst) {
  bool ok = true;
  for (int64_t j = 0; j < M.cols; ++j)
    for (int64_t i = 0; i < M.rows; ++i) {
      const double v = elem(M, i, j);
      ok = ok && std::isfinite(v);
      dst[i + j * M.rows] = v;
    }
  return ok;
}

// Top-k left singular vectors of a column-major m×n matrix (destroyed) into U (m×k).
int top_left(double* a, int m, int n, int k, double* U, std::vector<double>& s,
             std::vector<double>& u, std::vector<double>& work, std::vector<int>& iwork) {
  const int mn = std::min(m, n);
  s.resize((size_t)mn);
  u.resize((size_t)m * mn);
  iwork.resize((size_t)(8 * std::max(1, mn)));
  int info = 0, lw = -1;
  double q = 0;
  // jobz = 'S' (U m×mn, Vᵀ mn×n): simplest and robust for both shapes
  std::vector<double> vt((size_t)mn * n);
  lw = -1;
  scipy_dgesdd_("S", &m, &n, a, &m, s.data(), u.data(), &m, vt.data(), &mn, &q, &lw,
                iwork.data(), &info, 1);
  lw = (int)q + 1;
  if ((int)work.size() < lw) work.resize((size_t)lw);
  scipy_dgesdd_("S", &m, &n, a, &m, s.data(), u.data(), &m, vt.data(), &mn, work.data(), &lw,
                iwork.data(), &info, 1);
  if (info != 0) return info;
  std::copy(u.begin(), u.begin() + (size_t)m * k, U);
  return 0;
}

void align_one(const FactorRef& A, const FactorRef& B, int64_t k, double* r, double* ang,
               double* rho, int8_t* st) {
  const int m = (int)A.rows, kk = (int)k;
  std::vector<double> a((size_t)(A.rows * A.cols)), b((size_t)(B.rows * B.cols));
  std::vector<double> UA((size_t)m * kk), UB((size_t)m * kk), O((size_t)kk * kk), T, s, u, work;
  std::vector<int> iwork;
  auto fail = [&](int8_t code) {
    for (int64_t i = 0; i < k * k; ++i) r[i] = kNaN;
    for (int64_t i = 0; i < k; ++i) ang[i] = kNaN;
    *rho = kNaN;
    *st = code;
  };
  if (!load_colmajor(A, a.data()) || !load_colmajor(B, b.data())) return fail(1);
  if (top_left(a.data(), m, (int)A.cols, kk, UA.data(), s, u, work, iwork) != 0 ||
      top_left(b.data(), m, (int)B.cols, kk, UB.data(), s, u, work, iwork) != 0)
    return fail(2);
  const double one = 1.0, zero = 0.0, mone = -1.0;
  scipy_dgemm_("T", "N", &kk, &kk, &m, &one, UA.data(), &m, UB.data(), &m, &zero, O.data(), &kk,
               1, 1);
  // sign fix: flip column j of U_B (and of O) where O_jj < 0
  for (int j = 0; j < kk; ++j)
    if (O[(size_t)(j + j * kk)] < 0.0) {
      for (int i = 0; i < kk; ++i) O[(size_t)(i + j * kk)] = -O[(size_t)(i + j * kk)];
      for (int i = 0; i < m; ++i) UB[(size_t)(i + j * m)] = -UB[(size_t)(i + j * m)];
    }
  for (int i = 0; i < kk; ++i)
    for (int j = 0; j < kk; ++j) r[i * k + j] = O[(size_t)(i + j * kk)];
  std::vector<double> cs((size_t)kk), sn((size_t)kk);
  T = O;
  if (svals(T.data(), kk, kk, cs.data(), work, iwork) != 0) return fail(2);
  // E = U_B − U_A O (m×k); its singular values are sin θ (ascending θ ↔ ascending sin)
  scipy_dgemm_("N", "N", &m, &kk, &kk, &mone, UA.data(), &m, O.data(), &kk, &one, UB.data(), &m,
               1, 1);
  if (svals(UB.data(), m, kk, sn.data(), work, iwork) != 0) return fail(2);
  for (int j = 0; j < kk; ++j) {
    const double c = std::min(1.0, std::max(0.0, cs[(size_t)j]));
    const double sj = std::min(1.0, std::max(0.0, sn[(size_t)(kk - 1 - j)]));
    ang[j] = std::atan2(sj, c);
  }
  *rho = math::diag_correlation(r, k, k);
  *st = 0;
}

}  // namespace

// Threads: a chain whose layers are big enough runs on a team of workers that split the rows of
// every product and of the QR (depth_scan.inl); a batch with at least one chain per worker runs
// one chain per worker instead. BLAS is single-threaded inside either (OpenBLAS level-3 threads
// spin-wait; on the loaded 2-core development machine a threaded sgemm scan took 8× the CPU time
// of a single-threaded one, bench/results/depth.md). The chunking of a step depends on the shapes
// only, so the result is bitwise the same for every thread count.
void chain_scan(const FactorRef* f, const uint8_t* const* gates, int64_t B, int64_t L, int64_t k,
                bool panel_f32, double tau, double* out, int nthreads) {
  require(B >= 0 && L >= 1 && k >= 1, "chain_scan: bad sizes");
  for (int64_t i = 0; i < B * L; ++i) {
    require(k <= f[i].rows && k <= f[i].cols, "chain_scan: k exceeds a factor's width");
    require(!panel_f32 || (f[i].f32 && blas_layout(f[i])),
            "chain_scan: a float32 panel needs float32 factors with a unit stride");
    require(i % L == 0 || f[i].cols == f[i - 1].rows, "chain_scan: incompatible chain shapes");
  }
  const int T = nthreads > 0 ? nthreads : default_num_threads();
  BlasThreadsGuard guard(1);
  auto one = [&](int64_t b, int team) {
    ChainScan(f + b * L, gates ? gates + b * L : nullptr, L, k, panel_f32, tau, out + b * L * k,
              team)
        .run();
  };
  if (B >= T) {
    parallel_for(B, T, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) one(b, 1);
    });
  } else {
    for (int64_t b = 0; b < B; ++b) one(b, scan_team_size(f + b * L, L, k, T));
  }
}

void prefix_log_svdvals(const FactorRef* f, int64_t B, int64_t L, const uint8_t* take, int64_t k,
                        double* out, int nthreads) {
  require(B >= 0 && L >= 1 && k >= 1, "prefix_log_svdvals: bad sizes");
  int64_t nt = 0;
  for (int64_t l = 0; l < L; ++l) nt += take[l] ? 1 : 0;
  for (int64_t i = 0; i < B * L; ++i)
    require(i % L == 0 || f[i].cols == f[i - 1].rows, "prefix_log_svdvals: incompatible shapes");
  const int T = nthreads > 0 ? nthreads : default_num_threads();
  BlasThreadsGuard guard(B > 1 || nthreads <= 0 ? 1 : nthreads);
  parallel_for(B, B > 1 ? T : 1, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) prefix_one(f + b * L, L, take, k, out + b * nt * k);
  });
}

void subspace_alignment(const FactorRef* a, const FactorRef* b, int64_t n_pairs, int64_t k,
                        double* out_r, double* out_angles, double* out_rho, int8_t* status,
                        int nthreads) {
  for (int64_t i = 0; i < n_pairs; ++i)
    require(a[i].rows == b[i].rows && k <= std::min(a[i].rows, a[i].cols) &&
                k <= std::min(b[i].rows, b[i].cols),
            "subspace_alignment: bad shapes");
  const int T = nthreads > 0 ? nthreads : default_num_threads();
  BlasThreadsGuard guard(n_pairs > 1 || nthreads <= 0 ? 1 : nthreads);
  parallel_for(n_pairs, n_pairs > 1 ? T : 1, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      align_one(a[i], b[i], k, out_r + i * k * k, out_angles + i * k, out_rho + i, status + i);
  });
}

void dln_log_volume(const double* sigma, int64_t n_rows, int64_t d, double inv_n, double* out_s,
                    double* out_grad, int nthreads) {
  const int T = nthreads > 0 ? nthreads : default_num_threads();
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(1, d * d / 64));
  parallel_for(n_rows, T, grain, [&](int64_t r0, int64_t r1) {
    std::vector<double> lg((size_t)d);
    for (int64_t r = r0; r < r1; ++r) {
      const double* s = sigma + r * d;
      for (int64_t i = 0; i < d; ++i) lg[(size_t)i] = std::log(s[i]);
      math::LogVolumeSum acc{0.0, 0.0};  // Kahan over all pairs, i then j ascending
      for (int64_t i = 0; i < d; ++i) math::log_volume_pairs(lg.data(), d, i, inv_n, acc);
      out_s[r] = 0.5 * acc.sum;
      if (!out_grad) continue;
      double* g = out_grad + r * d;
      for (int64_t i = 0; i < d; ++i) g[i] = math::log_volume_grad(s, lg.data(), d, i, inv_n);
    }
  });
}

}  // namespace cpu
}  // namespace gsa
