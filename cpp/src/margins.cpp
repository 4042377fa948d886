// ‖XY‖ without forming XY (spec §2.2, §7.1): block Krylov (block Lanczos with full
// reorthogonalization and Rayleigh–Ritz on the whole basis, thick restart) on the operator
// v ↦ Yᵀ(Xᵀ(X(Yv))) of size n×n. One pass over a block of b vectors reads Y, then X once
// (the Gram XᵀX is applied tile by tile: Z_t = X_t P, U += X_tᵀ Z_t), then Y again. All
// arithmetic is float64 (dgemm on float64 tiles; float32 factors are widened one row tile at a
// time into a small buffer, never copied whole). Small problems, and the rare pair that does
// not converge, take the dense route: XY formed in float64 by dgemm, σ₁ by dgesdd.
#include "gsa_fast/kernels/margins.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "gsa_fast/linalg/blas_threads.hpp"
#include "gsa_fast/check.hpp"
#include "gsa_fast/linalg/lapack.hpp"
#include "gsa_fast/parallel.hpp"

namespace gsa {
namespace cpu {
namespace {

constexpr int kBlock = 8;          // Krylov block size b
constexpr int kMaxPasses = 400;    // then the dense route answers
constexpr int kChainBlock = 8;     // chain_norms default block (measured: bench/results/margins.md)
constexpr int64_t kTileBytes = 1 << 19;

void dgemm(char ta, char tb, int m, int n, int k, double alpha, const double* a, int lda,
           const double* b, int ldb, double beta, double* c, int ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < m; ++i) c[i + (int64_t)j * ldc] = beta == 0.0 ? 0.0 : beta * c[i + (int64_t)j * ldc];
    return;
  }
  scipy_dgemm_(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc, 1, 1);
}

// Binary exponent e with max|a| · 2^-e in [½, 1) (0 for an all-zero or non-finite matrix), clamped
// so that 2^±e stays a normal double. Scaling by 2^-e is exact: in the normal range the results
// are the same bits as unscaled, and outside it nothing over- or underflows.
template <class T>
int scale_exponent(const T* a, int64_t count) {
  // max |a| in the storage type (exact: |·| and max round nothing), in a form the compiler turns
  // into packed max instructions; a NaN never wins the comparison (callers refuse non-finite data)
  T m = 0;
  for (int64_t i = 0; i < count; ++i) {
    const T v = std::fabs(a[i]);
    m = v > m ? v : m;
  }
  const double mx = (double)m;
  if (!(mx > 0.0) || !std::isfinite(mx)) return 0;
  int e = 0;
  std::frexp(mx, &e);
  return std::max(-1000, std::min(1000, e));
}

// Calls f(tile, r0, rows) on row tiles [r0, r0+rows) of the row-major matrix A (rows×cols)
// between rows b and e, tile given as float64 (a view for double, a widened copy for float).
template <class T, class F>
void for_tiles(const T* A, int64_t cols, int64_t b, int64_t e, std::vector<double>& buf, F&& f,
               int64_t tile_bytes = kTileBytes) {
  const int64_t rt = std::max<int64_t>(1, tile_bytes / (8 * std::max<int64_t>(1, cols)));
  for (int64_t r0 = b; r0 < e; r0 += rt) {
    const int64_t rows = std::min(rt, e - r0);
    const T* src = A + r0 * cols;
    if constexpr (std::is_same<T, double>::value) {
      f(src, r0, rows);
    } else {
      buf.resize((size_t)(rows * cols));
      for (int64_t i = 0; i < rows * cols; ++i) buf[(size_t)i] = (double)src[i];
      f(buf.data(), r0, rows);
    }
  }
}

// out = (X̂Ŷ)ᵀ(X̂Ŷ) V for V n×b column-major (ld n), X̂ = 2^-ex X, Ŷ = 2^-ey Y; P (k×b), U (k×b)
// scratch.
template <class T>
struct Operator {
  const ProductPair<T>& pr;
  int workers;
  std::vector<std::vector<double>> bufs, acc;
  std::vector<double> P, U;

  const double sx, sy;  // 2^-ex, 2^-ey: the operator of the scaled factors

  Operator(const ProductPair<T>& p, int w)
      : pr(p), workers(w), bufs(w), acc(w), sx(std::ldexp(1.0, -p.ex)), sy(std::ldexp(1.0, -p.ey)) {}

  // Splits [0, rows) into `workers` contiguous ranges; fn(worker, b, e).
  template <class F>
  void split(int64_t rows, F&& fn) {
    const int w = (int)std::max<int64_t>(1, std::min<int64_t>(workers, rows));
    parallel_for(w, w, 1, [&](int64_t wb, int64_t we) {
      for (int64_t i = wb; i < we; ++i) fn((int)i, rows * i / w, rows * (i + 1) / w);
    });
    used = w;
  }
  int used = 1;

  void apply(const double* V, int b, double* out) {
    const int64_t m = pr.m, k = pr.k, n = pr.n;
    U.assign((size_t)(k * b), 0.0);
    const double* Pp = V;  // no Y (a single factor): the operator is XᵀX itself
    if (pr.y) {
    P.assign((size_t)(k * b), 0.0);
    Pp = P.data();
    // P = Y V: rows of Y are independent
    split(k, [&](int w, int64_t rb, int64_t re) {
      for_tiles(pr.y, n, rb, re, bufs[w], [&](const double* t, int64_t r0, int64_t rows) {
        dgemm('T', 'N', (int)rows, b, (int)n, sy, t, (int)n, V, (int)n, 0.0, P.data() + r0,
              (int)k);
      });
    });
    }
    // U = Xᵀ X P, reduced over workers
    split(m, [&](int w, int64_t rb, int64_t re) {
      acc[w].assign((size_t)(k * b), 0.0);
      std::vector<double> Z;
      for_tiles(pr.x, k, rb, re, bufs[w], [&](const double* t, int64_t, int64_t rows) {
        Z.resize((size_t)(rows * b));
        dgemm('T', 'N', (int)rows, b, (int)k, sx, t, (int)k, Pp, (int)k, 0.0, Z.data(),
              (int)rows);
        dgemm('N', 'N', (int)k, b, (int)rows, sx, t, (int)k, Z.data(), (int)rows, 1.0,
              acc[w].data(), (int)k);
      });
    });
    for (int w = 0; w < used; ++w)
      for (size_t i = 0; i < U.size(); ++i) U[i] += acc[w][i];
    if (!pr.y) {
      std::copy(U.begin(), U.end(), out);
      return;
    }
    // out = Yᵀ U, reduced over workers
    split(k, [&](int w, int64_t rb, int64_t re) {
      acc[w].assign((size_t)(n * b), 0.0);
      for_tiles(pr.y, n, rb, re, bufs[w], [&](const double* t, int64_t r0, int64_t rows) {
        dgemm('N', 'N', (int)n, b, (int)rows, sy, t, (int)n, U.data() + r0, (int)k, 1.0,
              acc[w].data(), (int)n);
      });
    });
    std::fill(out, out + n * b, 0.0);
    for (int w = 0; w < used; ++w)
      for (int64_t i = 0; i < n * b; ++i) out[i] += acc[w][(size_t)i];
  }
};

// σ₁ of the formed product (float64 dgemm, then dgesdd without vectors).
template <class T>
double dense_norm(const ProductPair<T>& pr) {
  const int64_t m = pr.m, k = pr.k, n = pr.n;
  if (m == 0 || n == 0 || k == 0) return 0.0;
  // C = X Y formed in float64 (C = X for a single factor), accumulated over slabs of the inner
  // dimension so that float32 factors are widened a slab at a time, never copied whole:
  // row-major C = Σ_t X[:, t] Y[t, :]  ⇔  column-major Cᵀ (n×m) += Y[t, :]ᵀ X[:, t]ᵀ.
  std::vector<double> C((size_t)(m * n), 0.0);
  const double sx = std::ldexp(1.0, -pr.ex), sy = std::ldexp(1.0, -pr.ey);  // exact scalings
  if (!pr.y) {
    for (int64_t i = 0; i < m * k; ++i) C[(size_t)i] = sx * (double)pr.x[i];
  } else {
    const int64_t R = std::max<int64_t>(1, (int64_t(1) << 19) / std::max<int64_t>(1, m + n));
    std::vector<double> xs, ys;
    for (int64_t t0 = 0; t0 < k; t0 += R) {
      const int64_t r = std::min(R, k - t0);
      ys.resize((size_t)(r * n));  // r×n row-major = column-major n×r
      for (int64_t i = 0; i < r * n; ++i) ys[(size_t)i] = sy * (double)pr.y[t0 * n + i];
      xs.resize((size_t)(m * r));  // column-major r×m: X[:, t]ᵀ
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < r; ++j) xs[(size_t)(i * r + j)] = sx * (double)pr.x[i * k + t0 + j];
      dgemm('N', 'N', (int)n, (int)m, (int)r, 1.0, ys.data(), (int)n, xs.data(), (int)r, 1.0,
            C.data(), (int)n);
    }
  }
  const int rows = (int)n, cols = (int)m, q = (int)std::min(m, n);
  std::vector<double> s((size_t)q);
  std::vector<int> iwork((size_t)(8 * q));
  int lwork = -1, info = 0, one = 1;
  double wq = 0, dummy = 0;
  const char jobz = 'N';
  scipy_dgesdd_(&jobz, &rows, &cols, C.data(), &rows, s.data(), &dummy, &one, &dummy, &one, &wq,
                &lwork, iwork.data(), &info, 1);
  lwork = std::max(1, (int)wq);
  std::vector<double> work((size_t)lwork);
  scipy_dgesdd_(&jobz, &rows, &cols, C.data(), &rows, s.data(), &dummy, &one, &dummy, &one,
                work.data(), &lwork, iwork.data(), &info, 1);
  require(info == 0, "product_norm: dgesdd did not converge");
  return std::ldexp(s[0], pr.ex + pr.ey);
}

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Block Lanczos state of one problem (the operator is applied by the caller), so that one
// problem can run alone (krylov_norm) or many can advance in lockstep over shared factor reads
// (chain_norms). Each step: prepare() orthonormalizes the candidate block against the basis
// (CGS2, deflating) and exposes it as block(); the caller writes the operator's image of it to
// image(); absorb() updates H = VᵀAV, runs Rayleigh–Ritz, tests the stopping rule and prepares
// the next candidates (thick restart when the basis is full).
struct Krylov {
  int64_t n = 0;
  int b = 0, cap = 0, kKeep = 0, p = 0, ncand = 0, p0 = 0, bnew = 0;
  int64_t passes = 0;
  double theta = 0.0;
  std::vector<double> V, W, H, cand, coeff, Hw, wv, Z, work, tmp, x, ax;
  std::vector<int> isuppz, iwork;

  Krylov(int64_t n_, int b_, int cap_min, uint64_t seed) : n(n_), b(b_) {
    cap = (int)std::min<int64_t>(n, std::max(cap_min, 8 * b));
    kKeep = std::max(32, 2 * b);
    V.resize((size_t)(n * cap));
    W.resize((size_t)(n * cap));
    H.assign((size_t)cap * cap, 0.0);
    cand.resize((size_t)(n * std::max(b, kKeep)));
    coeff.resize((size_t)cap);
    ncand = b;
    for (int64_t i = 0; i < n * b; ++i)
      cand[(size_t)i] = (double)(splitmix(seed) >> 11) * 0x1.0p-53 - 0.5;
  }
  const double* block() const { return V.data() + (int64_t)p0 * n; }
  double* image() { return W.data() + (int64_t)p0 * n; }
  double value() const { return std::sqrt(std::max(0.0, theta)); }

  // Orthonormalizes the candidates into the basis; returns the new block's width (0: the
  // basis is an invariant subspace and the Ritz values are exact).
  int prepare() {
    p0 = p;
    for (int c = 0; c < ncand && p < cap; ++c) {
      double* v = V.data() + (int64_t)p * n;
      std::memcpy(v, cand.data() + (int64_t)c * n, sizeof(double) * (size_t)n);
      double n0 = 0.0;
      for (int64_t i = 0; i < n; ++i) n0 += v[i] * v[i];
      n0 = std::sqrt(n0);
      if (!(n0 > 0.0)) continue;
      for (int rep = 0; rep < 2 && p > 0; ++rep) {
        dgemm('T', 'N', p, 1, (int)n, 1.0, V.data(), (int)n, v, (int)n, 0.0, coeff.data(), p);
        dgemm('N', 'N', (int)n, 1, p, -1.0, V.data(), (int)n, coeff.data(), p, 1.0, v, (int)n);
      }
      double nv = 0.0;
      for (int64_t i = 0; i < n; ++i) nv += v[i] * v[i];
      nv = std::sqrt(nv);
      if (!(nv > 1e-10 * n0)) continue;  // already in the span
      for (int64_t i = 0; i < n; ++i) v[i] /= nv;
      ++p;
    }
    bnew = p - p0;
    return bnew;
  }

  // After image() holds A·block(): 1 = converged (value() is the answer), 0 = continue,
  // -1 = failed (LAPACK error or kMaxPasses reached: the caller takes the dense route).
  int absorb(double tol) {
    ++passes;
    // new columns of H = Vᵀ A V, mirrored into the new rows
    tmp.resize((size_t)p * bnew);
    dgemm('T', 'N', p, bnew, (int)n, 1.0, V.data(), (int)n, W.data() + (int64_t)p0 * n, (int)n,
          0.0, tmp.data(), p);
    for (int j = 0; j < bnew; ++j)
      for (int i = 0; i < p; ++i) {
        const double h = tmp[(size_t)i + (size_t)j * p];
        const int jj = p0 + j;
        if (i >= p0 && i < jj) continue;  // set below, symmetrized
        if (i >= p0 && i > jj) {
          const double hs = 0.5 * (h + tmp[(size_t)jj + (size_t)(i - p0) * p]);
          H[(size_t)i + (size_t)jj * cap] = hs;
          H[(size_t)jj + (size_t)i * cap] = hs;
        } else {
          H[(size_t)i + (size_t)jj * cap] = h;
          H[(size_t)jj + (size_t)i * cap] = h;
        }
      }
    // Rayleigh–Ritz: the top K eigenpairs of H (p×p)
    const int K = std::min(p, kKeep);
    Hw.resize((size_t)p * p);
    for (int j = 0; j < p; ++j)
      for (int i = 0; i < p; ++i) Hw[(size_t)i + (size_t)j * p] = H[(size_t)i + (size_t)j * cap];
    wv.resize((size_t)p);
    Z.resize((size_t)p * K);
    isuppz.resize((size_t)(2 * p));
    int lwork = 26 * p + 64, liwork = 10 * p + 64, mfound = 0, info = 0, il = p - K + 1, iu = p,
        pn = p;
    work.resize((size_t)lwork);
    iwork.resize((size_t)liwork);
    const double vl = 0, vu = 0, abstol = 0;
    scipy_dsyevr_("V", "I", "U", &pn, Hw.data(), &pn, &vl, &vu, &il, &iu, &abstol, &mfound,
                  wv.data(), Z.data(), &pn, isuppz.data(), work.data(), &lwork, iwork.data(),
                  &liwork, &info, 1, 1, 1);
    if (info != 0 || mfound != K) return -1;
    theta = wv[(size_t)K - 1];
    const double theta2 = K >= 2 ? wv[(size_t)K - 2] : 0.0;
    // Ritz residual of the top pair: ‖W z − θ V z‖
    const double* z1 = Z.data() + (size_t)(K - 1) * p;
    x.resize((size_t)n);
    ax.resize((size_t)n);
    dgemm('N', 'N', (int)n, 1, p, 1.0, V.data(), (int)n, z1, p, 0.0, x.data(), (int)n);
    dgemm('N', 'N', (int)n, 1, p, 1.0, W.data(), (int)n, z1, p, 0.0, ax.data(), (int)n);
    double r2 = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double d = ax[(size_t)i] - theta * x[(size_t)i];
      r2 += d * d;
    }
    const double r = std::sqrt(r2), gap = theta - theta2;
    if (!(theta > 0.0)) {
      theta = 0.0;
      return 1;  // the product is zero on the whole Krylov space (r = 0 follows from θ = 0, H = 0)
    }
    if (r <= tol * theta || (gap > 0.0 && r * r <= tol * theta * gap)) return 1;
    if (p == n) return 1;  // the basis spans everything: exact
    if (passes >= kMaxPasses) return -1;
    if (p + b > cap) {
      // thick restart: keep the top K Ritz vectors (V Z, W Z), H = diag(θ)
      std::vector<double> VZ((size_t)(n * K)), WZ((size_t)(n * K));
      dgemm('N', 'N', (int)n, K, p, 1.0, V.data(), (int)n, Z.data(), p, 0.0, VZ.data(), (int)n);
      dgemm('N', 'N', (int)n, K, p, 1.0, W.data(), (int)n, Z.data(), p, 0.0, WZ.data(), (int)n);
      std::copy(VZ.begin(), VZ.end(), V.begin());
      std::copy(WZ.begin(), WZ.end(), W.begin());
      std::fill(H.begin(), H.end(), 0.0);
      for (int i = 0; i < K; ++i) H[(size_t)i + (size_t)i * cap] = wv[(size_t)i];
      p = K;
      // next block: images of the top b Ritz vectors (their residual directions)
      ncand = std::min(b, K);
      for (int c = 0; c < ncand; ++c)
        std::memcpy(cand.data() + (int64_t)c * n, W.data() + (int64_t)(K - 1 - c) * n,
                    sizeof(double) * (size_t)n);
    } else {
      ncand = bnew;
      std::memcpy(cand.data(), W.data() + (int64_t)p0 * n, sizeof(double) * (size_t)(n * bnew));
    }
    return 0;
  }
};

uint64_t problem_seed(int64_t n, int64_t m, int64_t k) {
  return 0x5eed ^ (uint64_t)(n * 1315423911ULL + m * 2654435761ULL + k);
}

// Krylov route; returns false when it did not converge within kMaxPasses.
template <class T>
bool krylov_norm(const ProductPair<T>& pr, double tol, int workers, double* result,
                 int64_t* passes) {
  // Block size 8: measured at n = 2048 on 2 loaded cores, b = 4/8/12/16/32/64 took
  // 2.8/2.5/2.7/4.4/6.3/13.6 s for ‖XY‖ and ‖X‖ together (wider blocks need fewer passes,
  // 36 → 14, but each pass does 6·n²·b float64 flops and the pass is compute-bound).
  Krylov K(pr.n, kBlock, 192, problem_seed(pr.n, pr.m, pr.k));
  Operator<T> op(pr, workers);
  *passes = 0;
  for (;;) {
    if (K.prepare() == 0) break;  // invariant subspace: the Ritz values are exact
    op.apply(K.block(), K.bnew, K.image());
    const int s = K.absorb(tol);
    *passes = K.passes;
    if (s < 0) return false;
    if (s > 0) break;
  }
  *result = std::ldexp(K.value(), pr.ex + pr.ey);
  return true;
}

// The dense route is cheaper when a side is small: forming XY costs 2mkn flops and reads each
// factor once, one Krylov pass already reads Y twice and X once.
bool use_dense(int64_t m, int64_t k, int64_t n) {
  return std::min({m, k, n}) <= 2 * kBlock || n <= 4 * kBlock || m * k * n <= (int64_t)96 * 96 * 96;
}

// ‖X‖_F in float64: per-row sums, then the sum of the rows (error ~ (k + m)·u relative).
template <class T>
double frobenius(const ProductPair<T>& pr) {
  const double sx = std::ldexp(1.0, -pr.ex);  // squares of 2^-ex X neither over- nor underflow
  double total = 0.0;
  for (int64_t i = 0; i < pr.m; ++i) {
    const T* row = pr.x + i * pr.k;
    double s = 0.0;
    for (int64_t j = 0; j < pr.k; ++j) {
      const double v = sx * (double)row[j];
      s += v * v;
    }
    total += s;
  }
  return std::ldexp(std::sqrt(total), pr.ex);
}

template <class T>
void one_pair(const ProductPair<T>& pair, double tol, int workers, double* out, int64_t* info,
              double* fro) {
  ProductPair<T> pr = pair;  // with the scale exponents of X and Y (one read each)
  pr.ex = scale_exponent(pr.x, pr.m * pr.k);
  pr.ey = pr.y ? scale_exponent(pr.y, pr.k * pr.n) : 0;
  if (fro) *fro = frobenius(pr);
  int64_t passes = 0;
  if (pr.m == 0 || pr.k == 0 || pr.n == 0) {
    *out = 0.0;
    *info = 0;
    return;
  }
  if (!use_dense(pr.m, pr.k, pr.n) && krylov_norm(pr, tol, workers, out, &passes)) {
    *info = passes;
    return;
  }
  *out = dense_norm(pr);
  *info = 0;
}

// ---- a chain: every norm and adjacent product in lockstep over shared factor reads ----------

constexpr int kChunks = 16;  // fixed row chunks of a streamed factor (results independent of threads)
// Row tiles of 2 MiB (64 rows of 4096): the accumulation Aᵀ[Z | R] then has an inner dimension
// of 64, not 16, and the per-tile dgemm overheads (packing, the chunk partial's traffic) shrink.
constexpr int64_t kChainTileBytes = int64_t(1) << 21;

struct StreamWork {
  std::vector<double> buf, Z;
};

// Streams A (m×n, row-major) once, in kChunks fixed row chunks spread over the workers:
//   acc (n×(g+t), column-major) = Aᵀ [A·B[:, :g] | R],   F (m×f, column-major) = A·B[:, g:g+f],
// B n×(g+f) and R m×t column-major. Per tile (float32 widened to float64 once, for every
// right-hand side together): Z = A_t B (one dgemm), the forward columns are copied out, the
// rows of R are placed beside the Gram columns, and acc_chunk += A_tᵀ [Z_g | R_t] (one dgemm).
// The chunk partials are summed in chunk order. fro2 (optional) = Σ a_ij² (row sums, chunk sums).
// Every use of A is of the scaled factor sa·A (sa a power of two: exact), fro2 included.
template <class T>
void stream_factor(const T* A, double sa, int64_t m, int64_t n, const double* B, int g, int f,
                   const double* R, int t, double* acc, double* F, double* fro2,
                   std::vector<std::vector<double>>& part, std::vector<StreamWork>& pool,
                   int nthreads) {
  const int64_t rt = std::max<int64_t>(1, kChainTileBytes / (8 * std::max<int64_t>(1, n)));
  const int64_t nchunks = std::max<int64_t>(1, std::min<int64_t>(kChunks, (m + rt - 1) / rt));
  const int gt = g + t, gf = g + f, zc = std::max(gf, gt);
  if ((int64_t)part.size() < nchunks) part.resize((size_t)nchunks);  // reused over calls
  std::vector<double> fpart((size_t)nchunks, 0.0);
  // one workspace per worker, taken from the caller's pool (its buffers are reused over calls)
  if ((int)pool.size() < nthreads) pool.resize((size_t)nthreads);
  std::atomic<int> next_ws{0};
  parallel_for_ws(nchunks, nthreads, 1, [&] { return &pool[(size_t)next_ws.fetch_add(1)]; },
                  [&](StreamWork* wp, int64_t cb, int64_t ce) {
    StreamWork& w = *wp;
    for (int64_t c = cb; c < ce; ++c) {
      const int64_t rb = m * c / nchunks, re = m * (c + 1) / nchunks;
      if (gt > 0) {
        part[(size_t)c].resize(std::max(part[(size_t)c].size(), (size_t)(n * gt)));
        std::fill(part[(size_t)c].begin(), part[(size_t)c].begin() + n * gt, 0.0);
      }
      double fs = 0.0;
      for_tiles(A, n, rb, re, w.buf, [&](const double* tile, int64_t r0, int64_t rows) {
        if (fro2) {
          for (int64_t i = 0; i < rows; ++i) {
            const double* row = tile + i * n;
            double s = 0.0;
            for (int64_t j = 0; j < n; ++j) s += (sa * row[j]) * (sa * row[j]);
            fs += s;
          }
        }
        if (zc == 0) return;
        w.Z.resize((size_t)(rows * zc));
        double* Z = w.Z.data();
        if (gf > 0)
          dgemm('T', 'N', (int)rows, gf, (int)n, sa, tile, (int)n, B, (int)n, 0.0, Z, (int)rows);
        for (int j = 0; j < f; ++j)
          std::memcpy(F + r0 + (int64_t)j * m, Z + (int64_t)(g + j) * rows, sizeof(double) * (size_t)rows);
        if (gt == 0) return;
        for (int j = 0; j < t; ++j)
          std::memcpy(Z + (int64_t)(g + j) * rows, R + r0 + (int64_t)j * m, sizeof(double) * (size_t)rows);
        dgemm('N', 'N', (int)n, gt, (int)rows, sa, tile, (int)n, Z, (int)rows, 1.0,
              part[(size_t)c].data(), (int)n);
      }, kChainTileBytes);
      fpart[(size_t)c] = fs;
    }
  });
  if (gt > 0) {
    std::fill(acc, acc + n * gt, 0.0);
    for (int64_t c = 0; c < nchunks; ++c)
      for (int64_t i = 0; i < n * gt; ++i) acc[i] += part[(size_t)c][(size_t)i];
  }
  if (fro2) {
    double s = 0.0;
    for (double v : fpart) s += v;
    *fro2 = s;
  }
}

}  // namespace

template <class T>
void chain_norms(const ChainFactor<T>* fs, int64_t L, const uint8_t* want_norm,
                 const uint8_t* want_prod, double* norm, double* prod, int64_t* norm_info,
                 int64_t* prod_info, double* fro, int64_t* reads, double tol, int block,
                 int nthreads) {
  if (nthreads <= 0) nthreads = default_num_threads();
  if (block <= 0) block = kChainBlock;
  BlasThreadsGuard guard(1);
  const int64_t NI = std::max<int64_t>(0, L - 1);
  std::fill(reads, reads + L, 0);
  // problem q < L: ‖A_q‖; q = L + l: ‖A_{l+1} A_l‖ (0-based l)
  // every factor enters as 2^-e_l A_l (max entry in [½, 1)): no intermediate of any problem
  // over- or underflows, whatever the factors' magnitudes; the results are multiplied back by
  // 2^(e_l) (and 2^(e_l + e_{l+1}) for products). One read per factor.
  std::vector<int> ex((size_t)L, 0);
  parallel_for(L, nthreads, 1, [&](int64_t b, int64_t e) {
    for (int64_t l = b; l < e; ++l) ex[(size_t)l] = scale_exponent(fs[l].a, fs[l].m * fs[l].n);
  });
  for (int64_t l = 0; l < L; ++l) ++reads[l];
  auto pair_of = [&](int64_t q) -> ProductPair<T> {
    ProductPair<T> pr;
    if (q < L) {
      pr = {fs[q].a, nullptr, fs[q].m, fs[q].n, fs[q].n};
      pr.ex = ex[(size_t)q];
      return pr;
    }
    const int64_t l = q - L;
    pr = {fs[l + 1].a, fs[l].a, fs[l + 1].m, fs[l].m, fs[l].n};
    pr.ex = ex[(size_t)(l + 1)];
    pr.ey = ex[(size_t)l];
    return pr;
  };
  auto unscale = [&](int64_t q) { return q < L ? ex[(size_t)q] : ex[(size_t)(q - L)] + ex[(size_t)(q - L + 1)]; };
  auto result = [&](int64_t q) -> double& { return q < L ? norm[q] : prod[q - L]; };
  auto info = [&](int64_t q) -> int64_t& { return q < L ? norm_info[q] : prod_info[q - L]; };
  std::vector<int64_t> dense;
  std::vector<std::unique_ptr<Krylov>> ks((size_t)(L + NI));
  for (int64_t q = 0; q < L + NI; ++q) {
    const bool want = q < L ? want_norm[q] != 0 : want_prod[q - L] != 0;
    if (!want) continue;
    const ProductPair<T> pr = pair_of(q);
    result(q) = 0.0;
    info(q) = 0;
    if (pr.m == 0 || pr.k == 0 || pr.n == 0) continue;
    if (use_dense(pr.m, pr.k, pr.n))
      dense.push_back(q);
    else
      ks[(size_t)q].reset(new Krylov(pr.n, block, 192, problem_seed(pr.n, pr.m, pr.k)));
  }
  // product buffers: P_l = A_l V (m_l×b) on the way up, R_l = A_{l+1}ᵀA_{l+1} P_l on the way down
  std::vector<std::vector<double>> P((size_t)NI), R((size_t)NI);
  for (int64_t l = 0; l < NI; ++l)
    if (ks[(size_t)(L + l)]) {
      P[(size_t)l].resize((size_t)(fs[l].m * block));
      R[(size_t)l].resize((size_t)(fs[l].m * block));
    }
  auto active = [&](int64_t q) { return ks[(size_t)q] != nullptr; };
  std::vector<int64_t> failed;
  // finishes problem q after absorb status s (or prepare() == 0: s = 1)
  auto finish = [&](int64_t q, int s) {
    Krylov& K = *ks[(size_t)q];
    if (s > 0) {
      result(q) = std::ldexp(K.value(), unscale(q));
      info(q) = K.passes;
    } else {
      failed.push_back(q);
    }
    ks[(size_t)q].reset();
  };
  // prepare() on every active problem in the list (in parallel); those with nothing left finish
  std::vector<int> width((size_t)(L + NI), 0);
  auto prepare = [&](const std::vector<int64_t>& qs) {
    parallel_for(qs.size(), nthreads, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) width[(size_t)qs[(size_t)i]] = ks[(size_t)qs[(size_t)i]]->prepare();
    });
    for (int64_t q : qs)
      if (width[(size_t)q] == 0) finish(q, 1);
  };
  std::vector<int> status((size_t)(L + NI), 0);
  auto actives = [&](int64_t from, int64_t to) {
    std::vector<int64_t> qs;
    for (int64_t q = from; q < to; ++q)
      if (active(q)) qs.push_back(q);
    return qs;
  };
  std::vector<double> fro2((size_t)L, 0.0);
  // absorb() then prepare() on one problem; the caller finishes it (serially) if it stopped
  auto step = [&](int64_t q) {
    int st = ks[(size_t)q]->absorb(tol);
    if (st == 0 && (width[(size_t)q] = ks[(size_t)q]->prepare()) == 0) st = 1;
    status[(size_t)q] = st;
  };
  auto settle = [&](const std::vector<int64_t>& qs) {
    for (int64_t q : qs)
      if (status[(size_t)q] != 0) finish(q, status[(size_t)q]);
  };
  // One iteration, in three parallel phases (each a loop over independent tasks; a task streams
  // its factors one at a time, each read split over the inner workers by fixed row chunks):
  //  U  (over pairs k, ascending inside): A_2k: its norm's Gram step and the first stage
  //     P_2k = A_2k V of product 2k; A_2k+1: its norm's Gram step, the middle stage
  //     R_2k = A_2k+1ᵀ A_2k+1 P_2k of product 2k and the first stage of product 2k+1;
  //  B  (over even l ≥ 0): A_l: its norm's second Gram step, the middle stage R_{l−1} of product
  //     l−1 (its P_{l−1} came from U) and the last stage A_lᵀ R_l of product l (R_l from U);
  //  C  (over odd l): A_l: its norm's second Gram step and the last stage A_lᵀ R_l of product l
  //     (R_l from B).
  // Every factor is read once in U and once in B or C; a norm takes two Krylov steps per
  // iteration, a product one; each problem's Rayleigh–Ritz step runs right after the read that
  // completes its image, in the same task. The schedule does not depend on the thread count.
  struct TaskWork {
    std::vector<StreamWork> pool;
    std::vector<std::vector<double>> part;
    std::vector<double> panel, acc;
  };
  std::vector<TaskWork> tws((size_t)nthreads);
  // streams A_l with g1 norm columns, (if mid) the middle stage of product l−1, (if fwd) the
  // first stage of product l, (if last) the last stage of product l; then the problems whose
  // image it completed take their step. Returns nothing; counts the read.
  auto visit = [&](TaskWork& tw, int64_t l, bool mid, bool fwd, bool last, double* f2, int inner) {
    const int64_t m = fs[l].m, n = fs[l].n;
    const int g1 = active(l) ? width[(size_t)l] : 0;
    const int g2 = (mid && l > 0 && active(L + l - 1)) ? width[(size_t)(L + l - 1)] : 0;
    const int f3 = (fwd && l < NI && active(L + l)) ? width[(size_t)(L + l)] : 0;
    const int t3 = (last && l < NI && active(L + l)) ? width[(size_t)(L + l)] : 0;
    if (g1 + g2 + f3 + t3 == 0 && !f2) return;
    tw.panel.resize((size_t)(n * (g1 + g2 + f3)));
    double* pn = tw.panel.data();
    if (g1) std::memcpy(pn, ks[(size_t)l]->block(), sizeof(double) * (size_t)(n * g1));
    if (g2) std::memcpy(pn + n * g1, P[(size_t)(l - 1)].data(), sizeof(double) * (size_t)(n * g2));
    if (f3) std::memcpy(pn + n * (g1 + g2), ks[(size_t)(L + l)]->block(), sizeof(double) * (size_t)(n * f3));
    tw.acc.resize((size_t)(n * (g1 + g2 + t3)));
    double* ac = tw.acc.data();
    stream_factor(fs[l].a, std::ldexp(1.0, -ex[(size_t)l]), m, n, pn, g1 + g2, f3, t3 ? R[(size_t)l].data() : nullptr, t3, ac,
                  f3 ? P[(size_t)l].data() : nullptr, f2, tw.part, tw.pool, inner);
    ++reads[l];
    if (g2) std::memcpy(R[(size_t)(l - 1)].data(), ac + n * g1, sizeof(double) * (size_t)(n * g2));
    if (g1) {
      std::memcpy(ks[(size_t)l]->image(), ac, sizeof(double) * (size_t)(n * g1));
      step(l);
    }
    if (t3) {
      std::memcpy(ks[(size_t)(L + l)]->image(), ac + n * (g1 + g2), sizeof(double) * (size_t)(n * t3));
      step(L + l);
    }
  };
  // runs task(tw, i, inner) for i < ntasks on the workers; inner = threads left per task
  auto phase = [&](int64_t ntasks, const std::function<void(TaskWork&, int64_t, int)>& task) {
    if (ntasks <= 0) return;
    const int outer = (int)std::min<int64_t>(nthreads, ntasks);
    const int inner = std::max(1, nthreads / outer);
    std::atomic<int> next_tw{0};
    parallel_for_ws(ntasks, outer, 1, [&] { return &tws[(size_t)next_tw.fetch_add(1)]; },
                    [&](TaskWork* tw, int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) task(*tw, i, inner);
    });
  };
  bool first = true;
  prepare(actives(0, L + NI));
  for (;;) {
    const std::vector<int64_t> before = actives(0, L + NI);
    if (before.empty() && !(first && fro)) break;
    for (int64_t q : before) status[(size_t)q] = 0;
    // width of a norm's block for its second step is set by step() in U; a norm that stops in U
    // is finished after U (settle) and skipped in B/C
    phase((L + 1) / 2, [&](TaskWork& tw, int64_t k, int inner) {
      for (int64_t l = 2 * k; l < std::min(L, 2 * k + 2); ++l)
        visit(tw, l, /*mid=*/l % 2 == 1, /*fwd=*/true, /*last=*/false,
              first && fro ? &fro2[(size_t)l] : nullptr, inner);
    });
    first = false;
    settle(before);
    if (before.empty()) break;
    std::vector<int64_t> after = actives(0, L + NI);
    for (int64_t q : after) status[(size_t)q] = 0;
    phase((L + 1) / 2, [&](TaskWork& tw, int64_t k, int inner) {
      visit(tw, 2 * k, /*mid=*/true, /*fwd=*/false, /*last=*/true, nullptr, inner);
    });
    phase(L / 2, [&](TaskWork& tw, int64_t k, int inner) {
      visit(tw, 2 * k + 1, /*mid=*/false, /*fwd=*/false, /*last=*/true, nullptr, inner);
    });
    settle(after);
  }
  if (fro)
    for (int64_t l = 0; l < L; ++l) fro[l] = std::ldexp(std::sqrt(fro2[(size_t)l]), ex[(size_t)l]);
  // small problems and the rare one that did not converge: the dense route
  dense.insert(dense.end(), failed.begin(), failed.end());
  parallel_for(dense.size(), nthreads, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t q = dense[(size_t)i];
      result(q) = dense_norm(pair_of(q));
      info(q) = 0;
    }
  });
  for (int64_t q : dense) {
    if (q < L) {
      ++reads[q];
    } else {
      ++reads[q - L];
      ++reads[q - L + 1];
    }
  }
}

template void chain_norms<float>(const ChainFactor<float>*, int64_t, const uint8_t*,
                                 const uint8_t*, double*, double*, int64_t*, int64_t*, double*,
                                 int64_t*, double, int, int);
template void chain_norms<double>(const ChainFactor<double>*, int64_t, const uint8_t*,
                                  const uint8_t*, double*, double*, int64_t*, int64_t*, double*,
                                  int64_t*, double, int, int);

template <class T>
void product_norm(const ProductPair<T>* pairs, int64_t npairs, double* out, int64_t* info,
                  double* fro, double tol, int nthreads) {
  if (nthreads <= 0) nthreads = default_num_threads();
  BlasThreadsGuard guard(1);
  if (npairs == 1) {
    one_pair(pairs[0], tol, nthreads, out, info, fro);
    return;
  }
  parallel_for(npairs, nthreads, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) one_pair(pairs[i], tol, 1, out + i, info + i, fro ? fro + i : nullptr);
  });
}

template void product_norm<float>(const ProductPair<float>*, int64_t, double*, int64_t*,
                                  double*, double, int);
template void product_norm<double>(const ProductPair<double>*, int64_t, double*, int64_t*,
                                   double*, double, int);

}  // namespace cpu
}  // namespace gsa
