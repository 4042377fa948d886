// Exact log spectra of prefix products in row-graded QR form (depth-math spec §4.3(b)), the DLN
// metric-operator eigenvalues (§8.3) and the effective rank (§8.6). See kernels/depth_graded.hpp.
#include "gsa_fast/kernels/depth_graded.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "gsa_fast/check.hpp"
#include "gsa_fast/linalg/blas_threads.hpp"
#include "gsa_fast/linalg/lapack.hpp"
#include "gsa_fast/math/compensated.hpp"
#include "gsa_fast/math/dln.hpp"
#include "gsa_fast/parallel.hpp"

namespace gsa {
namespace cpu {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kCutGap = 40.0;     // separation of Benettin sums that makes a free cut (e^{-80})
constexpr double kMaxSpan = 600.0;   // largest spread of c inside one Jacobi block (e^{-600} normal)
constexpr double kResolvedGap = 6.907755278982137;  // ½ log 1e6: cut error e^{-2g} ≤ 1e-6
constexpr double kU = 1.1102230246251565e-16;       // float64 unit roundoff

// Column-major float64 copy of one factor (rows × cols) into dst.
void load_factor(const FactorRef& M, double* dst) {
  for (int64_t j = 0; j < M.cols; ++j)
    for (int64_t i = 0; i < M.rows; ++i) {
      const int64_t off = i * M.rs + j * M.cs;
      dst[i + j * M.rows] = M.f32 ? (double)static_cast<const float*>(M.data)[off]
                                  : static_cast<const double*>(M.data)[off];
    }
}

// ‖R‖_F of the upper-trapezoidal part (rows × cols, leading dimension ld) = ‖Y‖_F after a QR;
// scaled by the largest entry so it never overflows.
double trapezoid_norm(const double* r, int rows, int cols, int ld) {
  double mx = 0.0;
  for (int j = 0; j < cols; ++j)
    for (int i = 0; i <= std::min(j, rows - 1); ++i) mx = std::max(mx, std::fabs(r[i + (size_t)j * ld]));
  if (!(mx > 0.0) || !std::isfinite(mx)) return mx;
  double s = 0.0;
  for (int j = 0; j < cols; ++j)
    for (int i = 0; i <= std::min(j, rows - 1); ++i) {
      const double v = r[i + (size_t)j * ld] / mx;
      s += v * v;
    }
  return mx * std::sqrt(s);
}

struct Lapack {
  std::vector<double> tau, work;
  void geqrf(int m, int n, double* a, int lda, int* info) {
    tau.resize((size_t)std::max(1, std::min(m, n)));
    int lw = -1;
    double q = 0;
    scipy_dgeqrf_(&m, &n, a, &lda, tau.data(), &q, &lw, info);
    lw = std::max(1, (int)q);
    if ((int)work.size() < lw) work.resize((size_t)lw);
    scipy_dgeqrf_(&m, &n, a, &lda, tau.data(), work.data(), &lw, info);
  }
  void orgqr(int m, int n, double* a, int lda, int* info) {
    int lw = -1;
    double q = 0;
    scipy_dorgqr_(&m, &n, &n, a, &lda, tau.data(), &q, &lw, info);
    lw = std::max(1, (int)q);
    if ((int)work.size() < lw) work.resize((size_t)lw);
    scipy_dorgqr_(&m, &n, &n, a, &lda, tau.data(), work.data(), &lw, info);
  }
};

// Blocks [a, b) of the indices 0..w−1 of the Benettin sums c and the separation of each cut:
// free cuts where min c before − max c after > kCutGap, then forced cuts at the largest local
// separation while a block spans more than kMaxSpan.
void graded_blocks(const double* c, int w, std::vector<int>& cuts, std::vector<double>& gaps) {
  cuts.assign(1, 0);
  gaps.assign(1, INFINITY);
  std::vector<double> pre((size_t)w + 1, INFINITY), suf((size_t)w + 1, -INFINITY);
  for (int i = 0; i < w; ++i) pre[(size_t)i + 1] = std::min(pre[(size_t)i], c[i]);
  for (int i = w - 1; i >= 0; --i) suf[(size_t)i] = std::max(suf[(size_t)i + 1], c[i]);
  for (int a = 1; a < w; ++a)
    if (pre[(size_t)a] - suf[(size_t)a] > kCutGap) {
      cuts.push_back(a);
      gaps.push_back(pre[(size_t)a] - suf[(size_t)a]);
    }
  cuts.push_back(w);
  gaps.push_back(INFINITY);
  for (size_t t = 0; t + 1 < cuts.size();) {  // split wide blocks, revisiting the left half
    const int s = cuts[t], e = cuts[t + 1];
    double lo = INFINITY, hi = -INFINITY;
    for (int i = s; i < e; ++i) {
      lo = std::min(lo, c[i]);
      hi = std::max(hi, c[i]);
    }
    if (e - s < 2 || !(hi - lo > kMaxSpan)) {
      ++t;
      continue;
    }
    int best = s + 1;
    double bg = -INFINITY, run_min = INFINITY;
    std::vector<double> sm((size_t)(e - s) + 1, -INFINITY);
    for (int i = e - 1; i >= s; --i) sm[(size_t)(i - s)] = std::max(sm[(size_t)(i - s) + 1], c[i]);
    for (int a = s + 1; a < e; ++a) {
      run_min = std::min(run_min, c[a - 1]);
      const double g = run_min - sm[(size_t)(a - s)];
      if (g > bg) {
        bg = g;
        best = a;
      }
    }
    cuts.insert(cuts.begin() + (long)t + 1, best);
    gaps.insert(gaps.begin() + (long)t + 1, bg);
  }
}

// log singular values of diag(e^c) T̂ from the triangle R̃ of T̂ᵀ = Q̃R̃ (G: column-major, leading
// dimension ldg, w × w used; only the upper triangle is read) into vals/flags (w, unsorted).
void graded_block_values(const double* G, int64_t ldg, int w, const double* c,
                         std::vector<std::pair<double, uint8_t>>& vals) {
  vals.clear();
  std::vector<int> cuts;
  std::vector<double> gaps, blk, sva, work;
  graded_blocks(c, w, cuts, gaps);
  int info = 0;
  for (size_t t = 0; t + 1 < cuts.size(); ++t) {
    const int a = cuts[t], nb = cuts[t + 1] - a;
    const uint8_t cut_ok = gaps[t] >= kResolvedGap && gaps[t + 1] >= kResolvedGap;
    if (nb == 1) {  // the strong-grading limit: log s = c_a + log|R̃_aa|
      const double r = std::fabs(G[(size_t)a + (size_t)a * ldg]);
      vals.push_back({r > 0.0 ? c[a] + std::log(r) : kNegInf, cut_ok});
      continue;
    }
    double cm = -INFINITY;
    for (int i = a; i < a + nb; ++i) cm = std::max(cm, c[i]);
    blk.assign((size_t)nb * nb, 0.0);
    for (int j = 0; j < nb; ++j) {
      const double sc = std::exp(c[a + j] - cm);
      for (int i = 0; i <= j; ++i)
        blk[(size_t)i + (size_t)j * nb] = G[(size_t)(a + i) + (size_t)(a + j) * ldg] * sc;
    }
    sva.resize((size_t)nb);
    int lw = std::max(6, 2 * nb), one = 1;
    work.assign((size_t)lw, 0.0);
    double vdum = 0.0;
    scipy_dgesvj_("U", "N", "N", &nb, &nb, blk.data(), &nb, sva.data(), &one, &vdum, &one,
                  work.data(), &lw, &info, 1, 1, 1);
    const double lscale = std::log(work[0]);
    for (int i = 0; i < nb; ++i)
      vals.push_back({sva[(size_t)i] > 0.0 ? cm + lscale + std::log(sva[(size_t)i]) : kNegInf,
                      (uint8_t)(cut_ok && info == 0)});
  }
}

// log singular values of diag(e^c) T̂ (T̂: w × n0, column-major, ld n0) into vals/flags (w).
void graded_values(const double* T, int w, int n0, const double* c, std::vector<double>& G,
                   Lapack& lp, std::vector<std::pair<double, uint8_t>>& vals) {
  vals.clear();
  G.resize((size_t)n0 * w);
  for (int i = 0; i < w; ++i)
    for (int j = 0; j < n0; ++j) G[(size_t)j + (size_t)i * n0] = T[(size_t)i + (size_t)j * n0];
  int info = 0;
  lp.geqrf(n0, w, G.data(), n0, &info);
  if (info != 0) {
    vals.assign((size_t)w, {kNaN, 0});
    return;
  }
  graded_block_values(G.data(), n0, w, c, vals);
}

// The k largest of vals, descending, into o (−∞ past the frame's rank, §4.2) and their flags
// into r (cleared where the accumulated error estimate exceeds 1e-6: err_ok = 0).
void write_sorted(std::vector<std::pair<double, uint8_t>>& vals, int64_t k, bool err_ok, double* o,
                  uint8_t* r) {
  std::sort(vals.begin(), vals.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
  for (int64_t j = 0; j < k; ++j) {
    if (j < (int64_t)vals.size()) {
      o[j] = vals[(size_t)j].first;
      r[j] = vals[(size_t)j].second && err_ok;
    } else {
      o[j] = kNegInf;  // above the frame's rank (§4.2)
      r[j] = 1;
    }
  }
}

void graded_one(const FactorRef* f, int64_t L, const uint8_t* take, int64_t k, double tau,
                double* out, uint8_t* res) {
  const int n0 = (int)f[0].cols;
  int64_t nmax = n0;
  for (int64_t l = 0; l < L; ++l) nmax = std::max(nmax, f[l].rows);
  std::vector<double> Q((size_t)n0 * n0, 0.0), Y, Mb, S, Tn, G;
  std::vector<double> T((size_t)n0 * n0, 0.0), c((size_t)n0, 0.0), cn((size_t)n0);
  for (int j = 0; j < n0; ++j) Q[(size_t)j + (size_t)j * n0] = T[(size_t)j + (size_t)j * n0] = 1.0;
  std::vector<std::pair<double, uint8_t>> vals;
  Lapack lp;
  int w = n0, ldq = n0;
  bool bad = false;
  std::vector<double> rc_work;
  std::vector<int> rc_iwork;
  double err = 0.0;  // accumulated estimate of the relative error of the small singular values
  int64_t slot = 0;
  const double one = 1.0, zero = 0.0;
  for (int64_t l = 0; l < L; ++l) {
    const int m = (int)f[l].rows, p = (int)f[l].cols;
    if (w > 0 && !bad) {
      Mb.resize((size_t)m * p);
      load_factor(f[l], Mb.data());
      Y.resize((size_t)m * w);
      scipy_dgemm_("N", "N", &m, &w, &p, &one, Mb.data(), &m, Q.data(), &ldq, &zero, Y.data(), &m,
                   1, 1);
      int info = 0;
      lp.geqrf(m, w, Y.data(), m, &info);
      const int wp = std::min(m, w);
      const double fro = trapezoid_norm(Y.data(), wp, w, m);
      if (info != 0 || !std::isfinite(fro)) {
        bad = true;
      } else {
        int wn = wp;
        for (int j = 0; j < wp; ++j)
          if (!(std::fabs(Y[(size_t)j + (size_t)j * m]) > tau * fro)) {
            wn = j;
            break;
          }
        for (int i = 0; i < wn; ++i)
          cn[(size_t)i] = c[(size_t)i] + std::log(std::fabs(Y[(size_t)i + (size_t)i * m]));
        // forming M_l·Q in float64 perturbs M_l by ~u‖M_l‖: up to u·κ(M_l) relative in the small
        // singular values of the product. κ(M_l) = κ(R_l) on the frame (Q orthonormal): the
        // LAPACK 1-norm estimate of the leading wn×wn triangle, O(wn²).
        if (wn > 0) {
          double rcond = 0.0;
          rc_work.resize((size_t)3 * wn);
          rc_iwork.resize((size_t)wn);
          int rinfo = 0;
          scipy_dtrcon_("1", "U", "N", &wn, Y.data(), &m, &rcond, rc_work.data(), rc_iwork.data(),
                        &rinfo, 1, 1, 1);
          err += rinfo == 0 && rcond > 0.0 ? kU / rcond : INFINITY;
        }
        // bracket (i, j ≥ i): R[i, j]·exp(c_{l−1}[j] − c_l[i]); T̂_l = bracket · T̂_{l−1}
        S.assign((size_t)std::max(wn, 1) * w, 0.0);
        for (int j = 0; j < w; ++j)
          for (int i = 0; i < std::min(j + 1, wn); ++i)
            S[(size_t)i + (size_t)j * wn] = Y[(size_t)i + (size_t)j * m] * std::exp(c[(size_t)j] - cn[(size_t)i]);
        Tn.assign((size_t)n0 * n0, 0.0);
        if (wn > 0) {
          scipy_dgemm_("N", "N", &wn, &n0, &w, &one, S.data(), &wn, T.data(), &n0, &zero, Tn.data(),
                       &n0, 1, 1);
          lp.orgqr(m, wn, Y.data(), m, &info);
        }
        std::swap(T, Tn);
        std::swap(Q, Y);
        ldq = m;
        w = wn;
        std::copy(cn.begin(), cn.begin() + wn, c.begin());
        for (int i = 0; i < wn && !bad; ++i) bad = !std::isfinite(c[(size_t)i]);
        for (size_t i = 0; i < (size_t)wn * n0 && !bad; ++i) bad = std::isnan(T[i]);
      }
    }
    if (!take[l]) continue;
    double* o = out + slot * k;
    uint8_t* r = res + slot * k;
    ++slot;
    if (bad) {
      for (int64_t j = 0; j < k; ++j) o[j] = kNaN, r[j] = 0;
      continue;
    }
    vals.clear();
    if (w > 0) graded_values(T.data(), w, n0, c.data(), G, lp, vals);
    write_sorted(vals, k, err <= 1e-6, o, r);
  }
}

}  // namespace

void prefix_log_graded(const FactorRef* f, int64_t B, int64_t L, const uint8_t* take, int64_t k,
                       double tau, double* out, uint8_t* resolved, int nthreads) {
  require(B >= 0 && L >= 1 && k >= 1 && tau >= 0.0, "prefix_log_graded: bad sizes");
  int64_t nt = 0;
  for (int64_t l = 0; l < L; ++l) nt += take[l] ? 1 : 0;
  for (int64_t i = 0; i < B * L; ++i)
    require(i % L == 0 || f[i].cols == f[i - 1].rows, "prefix_log_graded: incompatible shapes");
  for (int64_t b = 0; b < B; ++b) require(k <= f[b * L].cols, "prefix_log_graded: k exceeds n_0");
  const int T = nthreads > 0 ? nthreads : default_num_threads();
  BlasThreadsGuard guard(B > 1 || nthreads <= 0 ? 1 : nthreads);
  parallel_for(B, B > 1 ? T : 1, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      graded_one(f + b * L, L, take, k, tau, out + b * nt * k, resolved + b * nt * k);
  });
}

void graded_triangle_values(const double* R, int64_t w, const double* c, int64_t k, double* out,
                            uint8_t* flags) {
  require(w >= 0 && k >= 1, "graded_triangle_values: bad sizes");
  std::vector<double> G((size_t)w * w);  // column-major copy of the row-major triangle
  for (int64_t i = 0; i < w; ++i)
    for (int64_t j = 0; j < w; ++j) G[(size_t)i + (size_t)j * w] = R[(size_t)i * w + j];
  std::vector<std::pair<double, uint8_t>> vals;
  if (w > 0) graded_block_values(G.data(), w, (int)w, c, vals);
  write_sorted(vals, k, true, out, flags);
}

void dln_lambda_matrix(const double* sk, const double* sl, int64_t n_rows, int64_t m, int64_t n,
                       double inv_n, double* out, int nthreads) {
  const int T = nthreads > 0 ? nthreads : default_num_threads();
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, m * n));
  parallel_for(n_rows, T, grain, [&](int64_t r0, int64_t r1) {
    std::vector<math::DlnSigma> pk((size_t)m), pl((size_t)n);
    for (int64_t r = r0; r < r1; ++r) {  // logs and powers once per σ, then O(m·n) pairs
      const double* a = sk + r * m;
      const double* b = sl + r * n;
      bool ok = inv_n >= 0.0 && inv_n <= 1.0;
      for (int64_t i = 0; i < m; ++i) {
        ok = ok && math::dln_sigma_ok(a[i]);
        pk[(size_t)i] = math::dln_sigma(a[i], inv_n);
      }
      for (int64_t j = 0; j < n; ++j) {
        ok = ok && math::dln_sigma_ok(b[j]);
        pl[(size_t)j] = math::dln_sigma(b[j], inv_n);
      }
      double* o = out + r * m * n;
      if (!ok) {
        std::fill(o, o + m * n, kNaN);
        continue;
      }
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j)
          o[i * n + j] = math::dln_lambda_entry(pk[(size_t)i], pl[(size_t)j], inv_n);
    }
  });
}

template <class T>
void effective_rank(const T* values, const int64_t* starts, const int64_t* lengths, int64_t n,
                    double* out, int nthreads) {
  const int TH = nthreads > 0 ? nthreads : default_num_threads();
  parallel_for(n, TH, 256, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const T* s = values + starts[i];
      const int64_t q = lengths[i];
      double mx = 0.0;
      for (int64_t j = 0; j < q; ++j) mx = std::max(mx, (double)s[j]);
      math::KahanSum sum, xl;
      if (mx > 0.0)
        for (int64_t j = 0; j < q; ++j) math::erank_add((double)s[j], mx, sum, xl);
      out[i] = math::erank_finish(sum.value(), xl.value());
    }
  });
}

template void effective_rank<float>(const float*, const int64_t*, const int64_t*, int64_t, double*, int);
template void effective_rank<double>(const double*, const int64_t*, const int64_t*, int64_t, double*, int);

}  // namespace cpu
}  // namespace gsa
