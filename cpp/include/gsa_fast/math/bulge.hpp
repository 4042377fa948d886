// Band → tridiagonal by bulge chasing, one column per sweep (the second stage of the two-stage
// symmetric eigensolver), written once for the CPU executor (cpp/src/linalg/bulge.cpp) and the
// CUDA kernel (cuda/bulge.cu). See docs/gpu.md, "Band → tridiagonal on the device".
//
// The matrix. A symmetric n×n band matrix of half-bandwidth b, lower triangle only, in a working
// storage W (column-major, leading dimension ldw ≥ 2b): entry (r, c), 0 ≤ r − c < ldw, lives at
// W[(r − c) + c·ldw]. Rows 0..b of each column hold the band; rows b+1..2b−1 hold the fill
// ("bulge") that the chase creates and removes. Seen with leading dimension ldw − 1, W is a dense
// column-major matrix: (r, c) is at W + r + c·(ldw − 1) — every window below is such a view, valid
// only at entries with 0 ≤ r − c < ldw (the functions touch no other entry).
//
// The algorithm (0-based). Sweep s = 0..n−3 makes column s tridiagonal. Block k of sweep s is
// the row range R_k = [s + 1 + k·b, min(s + 1 + (k+1)·b, n)). Its steps j = 0, 1, 2, … are
//   j = 0        (kind 1) Householder reflector H = I − τ·v·vᵀ (v₀ = 1) that maps column s on R_0
//                onto its first entry; A(R_0, R_0) ← H·A(R_0, R_0)·H.
//   j = 2k + 1   (kind 2) the off-diagonal block C = A(R_{k+1}, R_k) ← C·H (the fill appears below
//                the band), then a new reflector H' that maps C's first column onto its first
//                entry, C(:, 1:) ← H'·C(:, 1:); H' is the sweep's reflector for block k + 1.
//   j = 2k + 2   (kind 3) A(R_{k+1}, R_{k+1}) ← H'·A(R_{k+1}, R_{k+1})·H'.
// Every step is an orthogonal similarity, so the eigenvalues are kept. After sweep s, column s
// is (d_s, e_s, 0, …, 0) exactly (the zeros are stored, not computed) and no later step touches
// it. The sweep ends with the last kind-3 step: steps(n, b, s) = 1 + 2·⌊(n − 2 − s)/b⌋.
//
// The schedule. Step j of sweep s touches the rows and columns of its blocks only; comparing the
// blocks of sweeps s − 1 and s (shifted by one row), step j of sweep s shares entries with steps
// ≤ j + 2 of sweep s − 1 and with none after (kind 2 of sweep s, block k, and kind 2 of sweep
// s − 1, block k + 1, share entry (s + (k+2)·b, s + (k+1)·b); kind 3 shares a diagonal entry with
// the kind-3 step two later). So (s, j) may run once (s, j − 1) and (s − 1, j + 2) have run:
// LAPACK dsytrd_sb2st's dependency with SHIFT = 3, MYID + SHIFT − 1 = j + 2. The wavefront
// t = j + SHIFT·s meets both (t(s − 1, j + 2) = t − 1); the tasks of one wavefront touch disjoint
// entries, so any order of them (or all at once) gives the bits of the serial sweep-by-sweep
// order. Each sweep keeps its own reflector (v: b doubles, τ: 1 double).
//
// Arithmetic. Functions take a "team" (rank(), size(), sync()): the CPU's is one thread, the GPU's
// a thread block. Each output entry is computed by one team member with a fixed loop order and
// every reduction to a scalar runs on rank 0 in a fixed order, so the results do not depend on
// the team size. Scratch: y (b doubles) and two shared scalars, given by the caller.
#pragma once

#include <math.h>

#include "gsa_fast/config.hpp"

namespace gsa {
namespace math {

constexpr int kBulgeShift = 3;  // wavefront t = j + kBulgeShift·s (LAPACK's SHIFT)

struct SerialTeam {
  GSA_HD int rank() const { return 0; }
  GSA_HD int size() const { return 1; }
  GSA_HD void sync() const {}
};

// ---- the schedule (pure functions) ---------------------------------------------------------

// Number of sweeps: n − 2 for b ≥ 2 and n ≥ 3, else 0 (already tridiagonal).
GSA_HD int bulge_sweeps(int n, int b) { return (b >= 2 && n >= 3) ? n - 2 : 0; }

// Steps of sweep s (0 ≤ s < bulge_sweeps): kind 1, then (kind 2, kind 3) per further block.
GSA_HD int bulge_steps(int n, int b, int s) { return 1 + 2 * ((n - 2 - s) / b); }

// Wavefronts: t runs over [0, bulge_wavefronts). t(s, j) = j + shift·s, shift ≥ 2 (every caller
// checks it): steps(s) falls by at most 2 per sweep, so shift·s + steps(s) grows with s and the
// last task is the last step of the last sweep.
GSA_HD int bulge_wavefronts(int n, int b, int shift = kBulgeShift) {
  const int S = bulge_sweeps(n, b);
  return S == 0 ? 0 : shift * (S - 1) + bulge_steps(n, b, S - 1);
}

// The sweeps with a task at wavefront t: s in [*lo, *hi) (empty when *lo ≥ *hi), each running step
// j = t − shift·s. Needs shift ≥ 2 (then shift·s + steps(s) grows with s, so the active sweeps are
// contiguous).
GSA_HD void bulge_wavefront_range(int n, int b, int t, int* lo, int* hi, int shift = kBulgeShift) {
  const int S = bulge_sweeps(n, b);
  int h = t < 0 ? 0 : t / shift + 1;  // j ≥ 0
  h = h < S ? h : S;
  int l = 0, r = h;  // first s in [0, h) with t < shift·s + steps(s)
  while (l < r) {
    const int m = (l + r) / 2;
    if (t < shift * m + bulge_steps(n, b, m)) r = m; else l = m + 1;
  }
  *lo = l;
  *hi = h;
}

// Step of sweep s at wavefront t, or −1.
GSA_HD int bulge_task_at(int n, int b, int s, int t, int shift = kBulgeShift) {
  const int j = t - shift * s;
  return (s >= 0 && s < bulge_sweeps(n, b) && j >= 0 && j < bulge_steps(n, b, s)) ? j : -1;
}

// Geometry of step j of sweep s: its kind (1, 2, 3) and window, rows [r0, r0 + rows) × columns
// [c0, c0 + cols) of the matrix. Kind 1: c0 = s and the window is column s plus the diagonal
// block (cols = rows + 1); kind 3: the diagonal block; kind 2: the off-diagonal block.
struct BulgeTask {
  int kind, r0, rows, c0, cols;
};

GSA_HD BulgeTask bulge_task(int n, int b, int s, int j) {
  BulgeTask t;
  const int k = j == 0 ? 0 : (j - 1) / 2;  // the block whose reflector the step applies
  const int lo = s + 1 + k * b, len = (n - lo) < b ? n - lo : b;
  if (j == 0) {
    t.kind = 1; t.r0 = lo; t.rows = len; t.c0 = s; t.cols = len + 1;
  } else if (j % 2 == 1) {
    const int lo1 = lo + b, len1 = (n - lo1) < b ? n - lo1 : b;
    t.kind = 2; t.r0 = lo1; t.rows = len1; t.c0 = lo; t.cols = len;
  } else {
    const int lo1 = lo + b, len1 = (n - lo1) < b ? n - lo1 : b;
    t.kind = 3; t.r0 = lo1; t.rows = len1; t.c0 = lo1; t.cols = len1;
  }
  return t;
}

// ---- the kernels on a window (dense column-major view X, leading dimension ld) --------------

// Householder reflector of x[0..len): H = I − τ·v·vᵀ, v₀ = 1, with H·x = (β, 0, …, 0), β = −sign(x₀)·‖x‖.
// x becomes (β, 0, …, 0) and v[0..len) the vector; τ = 0 (H = I, v = e₀) when x[1..) = 0.
// The norm is taken on x / max|x| (no overflow or underflow of the squares).
// shared: 2 doubles visible to the whole team (τ, and the scale 1/(x₀ − β)).
template <class Team>
GSA_HD void bulge_reflector(const Team& tm, double* x, int len, double* v, double* shared) {
  if (tm.rank() == 0) {
    double mx = 0.0;
    for (int i = 1; i < len; ++i) mx = fmax(mx, fabs(x[i]));
    double tau = 0.0, inv = 0.0;
    if (mx > 0.0) {
      const double a = x[0];
      mx = fmax(mx, fabs(a));
      const double as = a / mx;
      double ss = as * as;
      for (int i = 1; i < len; ++i) {
        const double xi = x[i] / mx;
        ss += xi * xi;
      }
      const double bs = -copysign(sqrt(ss), as);  // β / mx
      tau = (bs - as) / bs;
      inv = 1.0 / ((as - bs) * mx);  // v_i = x_i / (x₀ − β)
      x[0] = bs * mx;
    }
    shared[0] = tau;
    shared[1] = inv;
    v[0] = 1.0;
  }
  tm.sync();
  const double inv = shared[1];
  for (int i = 1 + tm.rank(); i < len; i += tm.size()) {
    v[i] = x[i] * inv;
    x[i] = 0.0;
  }
  tm.sync();
}

// D ← H·D·H on the symmetric L×L window D (lower triangle read and written): y = τ·D·v,
// y ← y − (τ/2)(yᵀv)·v, D ← D − v·yᵀ − y·vᵀ. y: L doubles of scratch; shared: 1 double.
template <class Team>
GSA_HD void bulge_apply_sym(const Team& tm, double* D, int ld, int L, const double* v, double tau,
                            double* y, double* shared) {
  if (tau == 0.0) return;  // uniform over the team
  for (int r = tm.rank(); r < L; r += tm.size()) {
    double acc = 0.0;
    for (int c = 0; c < r; ++c) acc += D[r + (long)c * ld] * v[c];
    for (int c = r; c < L; ++c) acc += D[c + (long)r * ld] * v[c];
    y[r] = tau * acc;
  }
  tm.sync();
  if (tm.rank() == 0) {
    double yv = 0.0;
    for (int i = 0; i < L; ++i) yv += y[i] * v[i];
    shared[0] = -0.5 * tau * yv;
  }
  tm.sync();
  const double alpha = shared[0];
  for (int r = tm.rank(); r < L; r += tm.size()) y[r] += alpha * v[r];
  tm.sync();
  for (int c = tm.rank(); c < L; c += tm.size()) {  // one column per member
    double* col = D + (long)c * ld;
    const double vc = v[c], yc = y[c];
    for (int r = c; r < L; ++r) col[r] -= v[r] * yc + y[r] * vc;
  }
  tm.sync();
}

// C ← C·H on the m×L window C (all entries): z = C·v, C ← C − τ·z·vᵀ. z: m doubles of scratch.
template <class Team>
GSA_HD void bulge_apply_right(const Team& tm, double* C, int ld, int m, int L, const double* v,
                              double tau, double* z) {
  if (tau == 0.0) return;
  for (int r = tm.rank(); r < m; r += tm.size()) {
    double acc = 0.0;
    for (int c = 0; c < L; ++c) acc += C[r + (long)c * ld] * v[c];
    z[r] = tau * acc;
  }
  tm.sync();
  for (int c = tm.rank(); c < L; c += tm.size()) {
    double* col = C + (long)c * ld;
    const double vc = v[c];
    for (int r = 0; r < m; ++r) col[r] -= z[r] * vc;
  }
  tm.sync();
}

// C ← H·C on the m×L window C: C(:, c) ← C(:, c) − τ·(vᵀC(:, c))·v, one column per member.
template <class Team>
GSA_HD void bulge_apply_left(const Team& tm, double* C, int ld, int m, int L, const double* v,
                             double tau) {
  if (tau == 0.0) return;
  for (int c = tm.rank(); c < L; c += tm.size()) {
    double* col = C + (long)c * ld;
    double acc = 0.0;
    for (int r = 0; r < m; ++r) acc += v[r] * col[r];
    const double f = tau * acc;
    for (int r = 0; r < m; ++r) col[r] -= f * v[r];
  }
  tm.sync();
}

// One step (kind from bulge_task) on its window X (dense view, leading dimension ld, origin at
// the window's (r0, c0)). v, tau: the sweep's reflector (b doubles, 1 double; kind 1 and kind 2
// write it, kind 2 and kind 3 read it). y: b doubles; shared: 2 doubles.
template <class Team>
GSA_HD void bulge_step(const Team& tm, const BulgeTask& t, double* X, int ld, double* v,
                       double* tau, double* y, double* shared) {
  if (t.kind == 1) {
    bulge_reflector(tm, X, t.rows, v, shared);
    if (tm.rank() == 0) *tau = shared[0];
    const double tv = shared[0];
    tm.sync();  // everyone has read shared[0] before bulge_apply_sym reuses it
    bulge_apply_sym(tm, X + ld, ld, t.rows, v, tv, y, shared);
  } else if (t.kind == 3) {
    bulge_apply_sym(tm, X, ld, t.rows, v, *tau, y, shared);
  } else {
    bulge_apply_right(tm, X, ld, t.rows, t.cols, v, *tau, y);
    tm.sync();  // every member has read the old v and τ
    bulge_reflector(tm, X, t.rows, v, shared);
    const double tv = shared[0];
    if (tm.rank() == 0) *tau = tv;
    bulge_apply_left(tm, X + ld, ld, t.rows, t.cols - 1, v, tv);
  }
  tm.sync();
}

// The window of task t in the working storage W (see the top): its dense view's origin.
GSA_HD double* bulge_window(double* W, int ldw, const BulgeTask& t) {
  return W + (t.r0 - t.c0) + (long)t.c0 * ldw;
}

// Whether the window entry (a, c) (row a, column c of the window) lies in the stored lower band:
// kind 2 windows are full; kind 1 and 3 windows use their lower part only.
GSA_HD bool bulge_window_entry(const BulgeTask& t, int a, int c) {
  return (t.r0 + a) >= (t.c0 + c);
}

}  // namespace math
}  // namespace gsa
