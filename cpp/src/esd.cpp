// ESD power-law fit (WeightWatcher 0.7.7's WWFit): see kernels/esd.hpp and math/esd.hpp.
//
// Cost. As written the fit is O(N²): every candidate x_min needs its α (O(n)) and its KS
// distance (O(n)). Here α comes from double-double suffix sums of log(x/x_0) (O(1) per candidate) and
// the KS scan is pruned exactly: candidate i can only win if D_i < D_best (strictly; ties go to the
// lower index, settled in the final merge), and the running maximum over any subset of its KS terms
// is a lower bound of D_i, so the scan of a candidate stops as soon as that running maximum exceeds
// the best D found so far. The bound only ever comes from fully scanned candidates, so it is always
// ≥ the true minimum and the winner is never pruned: the result equals the full scan's. The scan
// visits candidates outward from the best of a few evenly spaced seeds (so the bound is tight
// early) and, inside a candidate, starts with the block where the previous candidate's deviation
// was largest. Many spectra: one spectrum per worker; few spectra: workers share the candidates of
// one spectrum through an atomic bound.
#include "gsa_fast/kernels/esd.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <vector>

#include "gsa_fast/math/esd.hpp"
#include "gsa_fast/parallel.hpp"
#include "gsa_fast/simd.hpp"

namespace gsa {
namespace cpu {
namespace {

constexpr int64_t kBlock = 16;  // KS terms between two prune checks (most candidates stop after one)
const double kNaN = std::numeric_limits<double>::quiet_NaN();

// max_{k in [k0, k1)} |1 − exp(c·(L[k] − Li)) − k/n| over one block (L already offset to the tail).
typedef int64_t v4l __attribute__((vector_size(32)));

// max_{k in [k0, k1)} |1 − exp(c·(L[k] − Li)) − k/n| over one block, four lanes at a time.
GSA_CLONES("avx2")
double ks_block(const double* L, int64_t k0, int64_t k1, double Li, double c, double n) {
  v4d m4 = {0.0, 0.0, 0.0, 0.0};
  v4d kk = {(double)k0, (double)(k0 + 1), (double)(k0 + 2), (double)(k0 + 3)};
  int64_t k = k0;
  for (; k + 4 <= k1; k += 4) {
    v4d l;
    load4(l, L + k);
    const v4d e = math::esd_exp_nonpos_t<v4d, v4l>(c * (l - Li));
    const v4d v = math::esd_ks_term_t<v4d>(e, kk, n);
    m4 = v > m4 ? v : m4;
    kk += 4.0;
  }
  double m = std::max(std::max(m4[0], m4[1]), std::max(m4[2], m4[3]));
  for (; k < k1; ++k) {
    const double v = math::esd_ks_term(math::esd_exp_nonpos(c * (L[k] - Li)), (double)k, n);
    m = v > m ? v : m;
  }
  return m;
}

// KS distance of the standard rule for tail L[0..n) (L[0] = log(x_min/x_0)) and exponent 1 − α = c < 0.
// Stops early, returning a value > bound, once the running maximum exceeds bound (then D > bound).
// hint: block index to visit first; updated to the block holding the largest term seen.
double ks_scan(const double* L, int64_t n, double c, double bound, int64_t& hint) {
  const int64_t nb = (n + kBlock - 1) / kBlock;
  const double Li = L[0], nd = (double)n;
  double m = 0.0;
  int64_t first = std::min(std::max<int64_t>(hint, 0), nb - 1);
  int64_t arg = first;
  for (int64_t t = 0; t < nb; ++t) {
    const int64_t b = t == 0 ? first : (t <= first ? t - 1 : t);
    const int64_t k0 = b * kBlock, k1 = std::min(n, k0 + kBlock);
    const double v = ks_block(L, k0, k1, Li, c, nd);
    if (v > m) {
      m = v;
      arg = b;
    }
    if (m > bound) break;
  }
  hint = arg;
  return m;
}

// Exact KS distance for any α (scalar; the small-N rule and degenerate candidates): math/esd.hpp.
double ks_exact(const double* L, int64_t n, double alpha) { return math::esd_ks_exact(L, n, alpha); }

struct Prepared {
  std::vector<double> x;   // sorted ascending, after clip/threshold/limits
  std::vector<double> L;   // log(x / x[0]) (math::esd_log_rel)
  std::vector<double> shi, slo;  // double-double suffix sums of L: Σ_{k≥i} L_k = shi[i] + slo[i]
  std::vector<double> all; // clipped spectrum, sorted (for num_pl_spikes)
};

// Σ_{k≥i} (L_k − L_i) from the suffix sums (math/esd.hpp, shared with cuda/esd.cu).
inline double log_excess(const Prepared& p, int64_t i, int64_t N) {
  return math::esd_log_excess(p.L.data(), p.shi.data(), p.slo.data(), i, N);
}

struct Cand {
  double D;
  int64_t i;
};
inline bool better(const Cand& a, const Cand& b) { return a.D < b.D || (a.D == b.D && a.i < b.i); }

// Standard rule (N ≥ 20): first minimum of D over i = 0..N−2.
Cand fit_standard(const Prepared& p, int64_t N, int nthreads) {
  const int64_t nc = N - 1;
  std::vector<double> alpha(nc);
  bool all_degenerate = true;
  for (int64_t i = 0; i < nc; ++i) {
    alpha[i] = math::esd_alpha((double)(N - i), log_excess(p, i, N));
    if (alpha[i] > 1.0) all_degenerate = false;
  }
  if (all_degenerate) return {1.0, 0};  // every D is 1: the first wins

  // D of one candidate against a bound (returns > bound when pruned). α ≤ 1 gives D = 1 exactly.
  auto eval = [&](int64_t i, double bound, int64_t& hint) -> double {
    const double a = alpha[i];
    if (!(a > 1.0)) return 1.0;
    if (std::isinf(a)) return ks_exact(&p.L[i], N - i, a);
    return ks_scan(&p.L[i], N - i, 1.0 - a, bound, hint);
  };

  // Seeds: evenly spaced candidates, scanned in full, give the first bound.
  const int64_t nseed = std::min<int64_t>(nc, 16);
  Cand best{std::numeric_limits<double>::infinity(), nc};
  for (int64_t s = 0; s < nseed; ++s) {
    const int64_t i = (nc - 1) * s / std::max<int64_t>(nseed - 1, 1);
    int64_t hint = 0;
    const Cand c{eval(i, std::numeric_limits<double>::infinity(), hint), i};
    if (better(c, best)) best = c;
  }
  // Visit order: outward from the best seed.
  std::vector<int64_t> order;
  order.reserve(nc);
  const int64_t c0 = best.i;
  order.push_back(c0);
  for (int64_t d = 1; (int64_t)order.size() < nc; ++d) {
    if (c0 - d >= 0) order.push_back(c0 - d);
    if (c0 + d < nc) order.push_back(c0 + d);
  }
  std::atomic<double> bound{best.D};
  std::mutex mu;
  const Cand seed = best;
  Cand global = best;
  parallel_for(nc, nthreads, 64, [&](int64_t lo, int64_t hi) {
    Cand local = seed;
    int64_t hint = 0;
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t i = order[t];
      const double b = bound.load(std::memory_order_relaxed);
      const double D = eval(i, b, hint);
      if (D > b) continue;  // pruned (or worse): cannot be the first minimum
      const Cand c{D, i};
      if (better(c, local)) local = c;
      atomic_min(bound, D);
    }
    std::lock_guard<std::mutex> lk(mu);
    if (better(local, global)) global = local;
  });
  return global;
}

// One spectrum, start to end.
void fit_one(const double* v, int64_t len, const EsdOptions& opt, int64_t b, const EsdResults& out,
             int nthreads) {
  out.alpha[b] = out.xmin[b] = out.xmax[b] = out.D[b] = out.sigma[b] = kNaN;
  out.num_pl_spikes[b] = 0;
  out.num_fit[b] = 0;
  Prepared p;
  p.all.resize(len);
  double vmax = 0.0;
  for (int64_t k = 0; k < len; ++k) {
    const double y = opt.square ? v[k] * v[k] : v[k];
    if (!std::isfinite(y)) {
      out.status[b] = ESD_NONFINITE;
      return;
    }
    p.all[k] = y;
    vmax = std::max(vmax, std::fabs(y));
  }
  // Negative eigenvalues of a PSD matrix beyond rounding: |λ| > 64·eps·max|λ|.
  const double neg_tol = 64.0 * std::numeric_limits<double>::epsilon() * vmax;
  for (int64_t k = 0; k < len; ++k) {
    if (p.all[k] < -neg_tol) {
      out.status[b] = ESD_NEGATIVE;
      return;
    }
  }
  std::sort(p.all.begin(), p.all.end());
  // clip, threshold and limits: the range the fit sees (math/esd.hpp, shared with cuda/esd.cu)
  const math::EsdRange r = math::esd_range(p.all.data(), len, opt.clip_top, opt.apply_thresh, opt.thresh,
                                           opt.xmin_req ? opt.xmin_req[b] : kNaN,
                                           opt.xmax_req ? opt.xmax_req[b] : kNaN);
  const int64_t nall = r.nall, N = r.N;
  if (r.status != math::kEsdClipTooLarge) out.num_fit[b] = N;
  if (N >= 2) out.xmax[b] = p.all[r.i_min + N - 1];
  if (r.status != math::kEsdOk) {
    out.status[b] = r.status;
    return;
  }
  p.all.resize(nall);
  p.x.assign(p.all.begin() + r.i_min, p.all.begin() + r.i_min + N);
  p.L.resize(N);
  const bool ratio_ok = math::esd_log_ratio_ok(p.x.data(), N);
  for (int64_t k = 0; k < N; ++k) p.L[k] = math::esd_log_rel(p.x[k], p.x[0], ratio_ok);
  p.shi.assign(N + 1, 0.0);
  p.slo.assign(N + 1, 0.0);
  math::esd_suffix_sums(p.L.data(), N, p.shi.data(), p.slo.data());

  int64_t win;
  double alpha, D, sigma;
  if (N >= math::kEsdSmallN) {
    const Cand c = fit_standard(p, N, nthreads);
    win = c.i;
    alpha = math::esd_alpha((double)(N - win), log_excess(p, win, N));
    D = c.D;
    sigma = math::esd_sigma(alpha, (double)(N - win));
  } else {
    const math::EsdWin w = math::esd_fit_small(p.L.data(), p.shi.data(), p.slo.data(), N);
    win = w.i;
    alpha = w.alpha;
    D = w.D;
    sigma = w.sigma;
  }
  out.alpha[b] = alpha;
  out.D[b] = D;
  out.sigma[b] = sigma;
  out.xmin[b] = p.x[win];
  out.num_pl_spikes[b] = nall - (std::lower_bound(p.all.begin(), p.all.end(), p.x[win]) - p.all.begin());
  out.status[b] = ESD_OK;
}

static_assert(int(ESD_OK) == int(math::kEsdOk) && int(ESD_TOO_FEW) == int(math::kEsdTooFew) &&
                  int(ESD_ALL_EQUAL) == int(math::kEsdAllEqual) &&
                  int(ESD_CLIP_TOO_LARGE) == int(math::kEsdClipTooLarge) &&
                  int(ESD_NONFINITE) == int(math::kEsdNonFinite) && int(ESD_NEGATIVE) == int(math::kEsdNegative),
              "cpu::EsdStatus and math::EsdCode must agree");

}  // namespace

void esd_powerlaw_fit(const double* values, const int64_t* starts, const int64_t* lengths, int64_t nspec,
                      const EsdOptions& opt, const EsdResults& out, int nthreads) {
  if (nthreads <= 0) nthreads = default_num_threads();
  if (nspec >= 2 * (int64_t)nthreads || nthreads == 1) {
    parallel_for(nspec, nthreads, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t b = lo; b < hi; ++b) fit_one(values + starts[b], lengths[b], opt, b, out, 1);
    });
  } else {
    for (int64_t b = 0; b < nspec; ++b) fit_one(values + starts[b], lengths[b], opt, b, out, nthreads);
  }
}

}  // namespace cpu
}  // namespace gsa
