// Two-stage symmetric eigenvalues with a tiled, worker-parallel first stage. See
// linalg/band_eig.hpp; the reduction follows LAPACK's dsytrd_sy2sb (lower) in exact arithmetic.
#include "gsa_fast/linalg/band_eig.hpp"

#include <algorithm>
#include <atomic>
#include <climits>
#include <thread>
#include <utility>
#include <vector>

#include "gsa_fast/linalg/lapack.hpp"
#include "gsa_fast/interrupt.hpp"
#include "gsa_fast/parallel.hpp"

namespace gsa {
namespace cpu {
namespace {

constexpr int kMaxSweepThreads = 16;  // band_storage_eigvalues' cap on concurrent sweeps
constexpr int kTile = 512;  // tile edge of the trailing updates (256 and 512 measured equal)

// A22 (pn×pn, lower triangle valid, ld lda) → W = A22·B for B (pn×k, ld pn), row blocks of
// kTile over the workers: W_I = Σ_{J<I} A_IJ B_J + sym(A_II) B_I + Σ_{J>I} A_JIᵀ B_J.
void sym_times(const double* A22, int lda, int pn, int k, const double* B, double* W, int threads) {
  const int nb = (pn + kTile - 1) / kTile;
  const double one = 1.0;
  parallel_for(nb, threads, 1, [&](int64_t b, int64_t e) {
    for (int64_t I = b; I < e; ++I) {
      const int r0 = (int)I * kTile, rn = std::min(kTile, pn - r0);
      double* WI = W + r0;
      for (int J = 0; J < nb; ++J) {
        const int c0 = J * kTile, cn = std::min(kTile, pn - c0);
        const double beta = J == 0 ? 0.0 : 1.0;
        if (J < I) {
          const char N = 'N';
          scipy_dgemm_(&N, &N, &rn, &k, &cn, &one, A22 + (size_t)c0 * lda + r0, &lda, B + c0, &pn,
                       &beta, WI, &pn, 1, 1);
        } else if (J == I) {
          const char L = 'L';
          scipy_dsymm_(&L, &L, &rn, &k, &one, A22 + (size_t)r0 * lda + r0, &lda, B + r0, &pn, &beta,
                       WI, &pn, 1, 1);
        } else {
          const char T = 'T', N = 'N';
          scipy_dgemm_(&T, &N, &rn, &k, &cn, &one, A22 + (size_t)r0 * lda + c0, &lda, B + c0, &pn,
                       &beta, WI, &pn, 1, 1);
        }
      }
    }
  });
}

// Tile (I, J), I ≥ J, of A22 −= V Wᵀ + W Vᵀ (lower triangle). VW = [V | W] and WV = [W | V]
// (pn × 2k each, ld pn), so an off-diagonal tile is one dgemm of inner size 2k.
void rank2k_tile(double* A22, int lda, int pn, int k, const double* VW, const double* WV, int I,
                 int J) {
  const double one = 1.0, mone = -1.0;
  const int k2 = 2 * k;
  const int r0 = I * kTile, rn = std::min(kTile, pn - r0);
  const int c0 = J * kTile, cn = std::min(kTile, pn - c0);
  double* C = A22 + (size_t)c0 * lda + r0;
  if (I == J) {
    const char L = 'L', N = 'N';
    scipy_dsyr2k_(&L, &N, &rn, &k, &mone, VW + r0, &pn, VW + (size_t)pn * k + r0, &pn, &one, C, &lda,
                  1, 1);
  } else {
    const char N = 'N', T = 'T';
    scipy_dgemm_(&N, &T, &rn, &cn, &k2, &mone, VW + r0, &pn, WV + c0, &pn, &one, C, &lda, 1, 1);
  }
}

// One panel's Householder data: V (unit lower, pn × pk) in the left half of VW = [V | W], its
// triangular factor T (ld kd) and tau.
struct Panel {
  std::vector<double> tau, T, VW;
  int info = 0;
  Panel(int n, int kd) : tau((size_t)kd), T((size_t)kd * kd), VW((size_t)n * 2 * kd) {}
};

// QR of the panel below the band at column i — rows i+kd.., columns i..i+kd-1 (pn × kd),
// min(pn, kd) reflectors — into P; A keeps R (upper trapezoidal, the band's lower block) and
// gets zeros below it. `work` is dgeqrf's workspace.
void factor_panel(int n, int kd, double* A, int lda, int i, std::vector<double>& work, Panel& P) {
  const int pn = n - i - kd, pk = std::min(kd, pn);
  double* B = A + (size_t)i * lda + (i + kd);
  const int lw = (int)work.size();
  scipy_dgeqrf_(&pn, &kd, B, &lda, P.tau.data(), work.data(), &lw, &P.info);
  if (P.info) return;
  double* V = P.VW.data();
  for (int c = 0; c < pk; ++c) {
    double* v = V + (size_t)c * pn;
    std::fill(v, v + c, 0.0);
    v[c] = 1.0;
    double* col = B + (size_t)c * lda;
    for (int r = c + 1; r < pn; ++r) {
      v[r] = col[r];
      col[r] = 0.0;
    }
  }
  const char F = 'F', C = 'C';
  scipy_dlarft_(&F, &C, &pn, &pk, V, &pn, P.tau.data(), P.T.data(), &kd, 1, 1);
}

// Dense → band (lower, width kd) in place; the part of A below the band is left as zeros.
// Look-ahead: the next panel's columns are updated first, and its QR then runs on one worker
// while the others finish the trailing update.
int sy2sb_lower(int n, int kd, double* A, int lda, int threads) {
  // the next panel must lie in the first tile column: kd ≤ kTile (band_eigvalues_kd clips it)
  Panel panels[2] = {Panel(n, kd), Panel(n, kd)};
  std::vector<double> Y((size_t)kd * kd), WV((size_t)n * 2 * kd), VT((size_t)n * kd);
  std::vector<double> work;
  int info = 0;
  {  // dgeqrf workspace for the largest panel
    const int pn = n - kd, lw = -1;
    double wq = 0.0;
    scipy_dgeqrf_(&pn, &kd, A, &lda, panels[0].tau.data(), &wq, &lw, &info);
    if (info) return info;
    work.resize((size_t)std::max(1.0, wq));
  }
  const double one = 1.0, zero = 0.0, mhalf = -0.5;
  if (kd < n) factor_panel(n, kd, A, lda, 0, work, panels[0]);
  for (int i = 0, cur = 0; i + kd < n; i += kd, cur ^= 1) {
    interrupt_point();  // between panels
    Panel& P = panels[cur];
    if (P.info) return P.info;
    const int pn = n - i - kd, pk = std::min(kd, pn);
    double* V = P.VW.data();
    double* W = P.VW.data() + (size_t)pn * pk;
    // VT = V·T; W = A22·VT; W −= ½·V·(Tᵀ·(Vᵀ·W))
    std::copy(V, V + (size_t)pn * pk, VT.data());
    {
      const char R = 'R', U = 'U', N = 'N';
      scipy_dtrmm_(&R, &U, &N, &N, &pn, &pk, &one, P.T.data(), &kd, VT.data(), &pn, 1, 1, 1, 1);
    }
    double* A22 = A + (size_t)(i + kd) * lda + (i + kd);
    sym_times(A22, lda, pn, pk, VT.data(), W, threads);
    {
      const char Tt = 'T', N = 'N', L = 'L', U = 'U';
      scipy_dgemm_(&Tt, &N, &pk, &pk, &pn, &one, V, &pn, W, &pn, &zero, Y.data(), &kd, 1, 1);
      scipy_dtrmm_(&L, &U, &Tt, &N, &pk, &pk, &one, P.T.data(), &kd, Y.data(), &kd, 1, 1, 1, 1);
      scipy_dgemm_(&N, &N, &pn, &pk, &pk, &mhalf, V, &pn, Y.data(), &kd, &one, W, &pn, 1, 1);
    }
    // WV = [W | V] (VW = [V | W] already contiguous with ld pn)
    std::copy(W, W + (size_t)pn * pk, WV.data());
    std::copy(V, V + (size_t)pn * pk, WV.data() + (size_t)pn * pk);
    // A22 −= V Wᵀ + W Vᵀ: first tile column 0 (it holds the next panel), then the next panel's
    // QR (task 0) beside the remaining tiles
    const int nb = (pn + kTile - 1) / kTile;
    std::vector<std::pair<int, int>> rest;
    for (int I = 1; I < nb; ++I)
      for (int J = 1; J <= I; ++J) rest.emplace_back(I, J);
    parallel_for(nb, threads, 1, [&](int64_t b, int64_t e) {
      for (int64_t I = b; I < e; ++I) rank2k_tile(A22, lda, pn, pk, P.VW.data(), WV.data(), (int)I, 0);
    });
    const bool next = i + 2 * kd < n;
    Panel& Q = panels[cur ^ 1];
    parallel_for((int64_t)rest.size() + 1, threads, 1, [&](int64_t b, int64_t e) {
      for (int64_t t = b; t < e; ++t) {
        if (t == 0) {
          if (next) factor_panel(n, kd, A, lda, i + kd, work, Q);
        } else {
          const auto& tile = rest[(size_t)t - 1];
          rank2k_tile(A22, lda, pn, pk, P.VW.data(), WV.data(), tile.first, tile.second);
        }
      }
    });
  }
  return 0;
}

// The lower band of A (width kd, column-major, ld lda) into LAPACK band storage B (ld ldb ≥ kd+1,
// zero-filled by the caller): B[(i − j) + j·ldb] = A(i, j) for j ≤ i ≤ j + kd.
void pack_lower_band(int n, int kd, const double* A, int lda, double* B, int ldb) {
  for (int j = 0; j < n; ++j)
    for (int r = 0; r <= kd && j + r < n; ++r) B[(size_t)j * ldb + r] = A[(size_t)j * lda + j + r];
}

// The zero-filled working copy sb2st_sweeps chases its bulges in (ld 2·kd + 1).
std::vector<double> band_workspace(int n, int kd) {
  return std::vector<double>((size_t)(2 * kd + 1) * n, 0.0);
}

// Band → tridiagonal by LAPACK's dsytrd_sb2st (kd < 2; wider bands go through sb2st_sweeps,
// which can stop between sweeps). Returns its info.
int sb2st_lapack(int n, int kd, const double* A, int lda, double* d, double* e) {
  const int ldab = kd + 1;
  std::vector<double> AB((size_t)ldab * n, 0.0);
  pack_lower_band(n, kd, A, lda, AB.data(), ldab);
  const char N = 'N', L = 'L';
  int info = 0, lh = -1, lw = -1;
  double hq = 0.0, wq = 0.0;
  scipy_dsytrd_sb2st_(&N, &N, &L, &n, &kd, AB.data(), &ldab, d, e, &hq, &lh, &wq, &lw, &info, 1, 1,
                      1);
  if (info) return info;
  lh = std::max(1, (int)hq);
  lw = std::max(1, (int)wq);
  std::vector<double> hous((size_t)lh), work((size_t)lw);
  scipy_dsytrd_sb2st_(&N, &N, &L, &n, &kd, AB.data(), &ldab, d, e, hous.data(), &lh, work.data(), &lw,
                      &info, 1, 1, 1);
  return info;
}

// Band → tridiagonal on `threads` threads: LAPACK's dsytrd_sb2st bulge chasing, with its kernels
// (dsb2st_kernels) called in the same per-sweep order, sweep s on thread (s − 1) mod threads (two
// threads: odd sweeps on one, even on the other). Step m of sweep s runs once sweep s−1 has finished
// its step m + 2 (dsb2st's SHIFT = 3, the dependency its OpenMP tasks declare; sweeps of the same
// parity, which share V and TAU, then stay ≥ 2·kd columns apart, as in LAPACK's OpenMP run of any
// number of sweeps at once); the arithmetic is LAPACK's, so d and e are
// bitwise those of dsytrd_sb2st. W holds the lower band of width kd in rows 0..kd of a
// zero-filled working copy with ld 2·kd + 1 (band_workspace) and is overwritten.
// With threads = 1 the sweeps run in order on the caller (LAPACK's own order). Both variants
// check for Ctrl-C between sweeps (interrupt.hpp): the caller raises `stop`, the other thread
// sees it while it waits or between its sweeps, and Interrupted is thrown after the join.
// Needs 2 ≤ kd ≤ n − 1.
void sb2st_sweeps(int n, int kd, std::vector<double>& W, double* d, double* e, int threads) {
  const int ldw = 2 * kd + 1;
  // V and TAU: one half per sweep parity (the kernels index MOD(sweep−1, 2)·n + st)
  std::vector<double> V((size_t)2 * n + 2 * kd + 2), tau((size_t)2 * n + 2 * kd + 2);
  std::vector<std::atomic<int>> progress((size_t)n);  // last finished step of sweep s (INT_MAX: done)
  for (auto& p : progress) p.store(0, std::memory_order_relaxed);
  // sweep s runs on thread (s − 1) mod step (step ≤ kMaxSweepThreads, ≤ n − 1 sweeps)
  const int step = std::max(1, std::min({threads, kMaxSweepThreads, n - 1}));
  std::vector<double> scratch((size_t)step * (2 * kd + 2));  // per thread (allocated here: no throw inside)
  std::atomic<bool> stop{false};
  auto sweeps = [&](int first, bool caller) {
    double* work = scratch.data() + (size_t)(first - 1) * (2 * kd + 2);
    const char L = 'L';
    const int wantz = 0, ib = 1, ldv = kd + 1;
    for (int s = first; s <= n - 1; s += step) {
      if (caller ? interrupt_requested() : stop.load(std::memory_order_relaxed)) {
        stop.store(true);
        return;
      }
      for (int m = 1;; ++m) {
        const int ttype = m == 1 ? 1 : m % 2 + 2;
        const int colpt = ttype == 2 ? (m / 2) * kd + s : ((m + 1) / 2) * kd + s;
        const int stind = colpt - kd + 1, edind = std::min(colpt, n);
        const int last = ttype == 2 ? colpt : (stind >= edind - 1 && edind == n ? n : 0);
        if (s > 1) {
          const std::atomic<int>& prev = progress[(size_t)s - 1];
          while (prev.load(std::memory_order_acquire) < m + 2) {
            if (stop.load(std::memory_order_relaxed)) return;
            std::this_thread::yield();
          }
        }
        scipy_dsb2st_kernels_(&L, &wantz, &ttype, &stind, &edind, &s, &n, &kd, &ib, W.data(), &ldw,
                              V.data(), tau.data(), &ldv, work, 1);
        const bool done = last >= n - 1;
        progress[(size_t)s].store(done ? INT_MAX : m, std::memory_order_release);
        if (done) break;
      }
    }
  };
  {
    std::vector<std::thread> others;
    others.reserve((size_t)step - 1);
    for (int t = 2; t <= step; ++t) others.emplace_back(sweeps, t, false);
    sweeps(1, true);
    for (auto& t : others) t.join();
  }
  if (stop.load()) throw Interrupted();
  for (int i = 0; i < n; ++i) d[i] = W[(size_t)i * ldw];
  for (int i = 0; i + 1 < n; ++i) e[i] = W[(size_t)i * ldw + 1];
}

}  // namespace

int band_eigvalues(int64_t n, double* A, int64_t lda, int threads, double* w) {
  return band_eigvalues_kd(n, A, lda, threads, w, kBandWidth);
}

int band_eigvalues_kd(int64_t n64, double* A, int64_t lda64, int threads, double* w, int width) {
  const int n = (int)n64, lda = (int)lda64;
  if (n <= 0) return 0;
  const int kd = std::max(1, std::min({width, kTile, n - 1}));
  int info = sy2sb_lower(n, kd, A, lda, threads);
  if (info) return info;
  std::vector<double> e((size_t)n);
  if (kd >= 2) {
    std::vector<double> W = band_workspace(n, kd);
    pack_lower_band(n, kd, A, lda, W.data(), 2 * kd + 1);
    sb2st_sweeps(n, kd, W, w, e.data(), std::min(threads, 2));  // measured on the 2-core machine
  } else if ((info = sb2st_lapack(n, kd, A, lda, w, e.data())) != 0) {
    return info;
  }
  scipy_dsterf_(&n, w, e.data(), &info);
  return info;
}

int band_storage_eigvalues(int64_t n64, int kd_in, const double* AB, int64_t ldab, int threads,
                           double* w) {
  const int n = (int)n64;
  if (n <= 0) return 0;
  const int kd = std::max(0, std::min(kd_in, n - 1));  // rows beyond n − 1 hold nothing
  std::vector<double> e((size_t)n, 0.0);
  if (kd >= 2) {
    std::vector<double> W = band_workspace(n, kd);
    const int ldw = 2 * kd + 1;
    for (int j = 0; j < n; ++j)
      for (int r = 0; r <= kd && j + r < n; ++r) W[(size_t)j * ldw + r] = AB[(size_t)j * ldab + r];
    sb2st_sweeps(n, kd, W, w, e.data(), threads);
  } else {  // already tridiagonal (kd = 1) or diagonal (kd = 0)
    for (int j = 0; j < n; ++j) w[j] = AB[(size_t)j * ldab];
    if (kd == 1)
      for (int j = 0; j + 1 < n; ++j) e[(size_t)j] = AB[(size_t)j * ldab + 1];
  }
  int info = 0;
  scipy_dsterf_(&n, w, e.data(), &info);
  return info;
}

}  // namespace cpu
}  // namespace gsa
