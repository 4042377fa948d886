// ‖XY‖ without forming XY (spec §2.2, §7.1): block Krylov (block Lanczos with full
// reorthogonalization and Rayleigh–Ritz on the whole basis, thick restart) on the operator
// v ↦ Yᵀ(Xᵀ(X(Yv))) of size n×n. One pass over a block of b vectors reads Y, then X once
// (the Gram XᵀX is applied tile by tile: Z_t = X_t P, U += X_tᵀ Z_t), then Y again. All
// arithmetic is float64 (dgemm on float64 tiles; float32 factors are widened one row tile at a
// time into a small buffer, never copied whole). Small problems, and the rare pair that does
// not converge, take the dense route: XY formed in float64 by dgemm, σ₁ by dgesdd.
#include "gsa_fast/kernels/margins.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
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

// Calls f(tile, r0, rows) on row tiles [r0, r0+rows) of the row-major matrix A (rows×cols)
// between rows b and e, tile given as float64 (a view for double, a widened copy for float).
template <class T, class F>
void for_tiles(const T* A, int64_t cols, int64_t b, int64_t e, std::vector<double>& buf, F&& f) {
  const int64_t rt = std::max<int64_t>(1, kTileBytes / (8 * std::max<int64_t>(1, cols)));
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

// out = (XY)ᵀ(XY) V for V n×b column-major (ld n); P (k×b), U (k×b) scratch.
template <class T>
struct Operator {
  const ProductPair<T>& pr;
  int workers;
  std::vector<std::vector<double>> bufs, acc;
  std::vector<double> P, U;

  Operator(const ProductPair<T>& p, int w) : pr(p), workers(w), bufs(w), acc(w) {}

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
        dgemm('T', 'N', (int)rows, b, (int)n, 1.0, t, (int)n, V, (int)n, 0.0, P.data() + r0,
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
        dgemm('T', 'N', (int)rows, b, (int)k, 1.0, t, (int)k, Pp, (int)k, 0.0, Z.data(),
              (int)rows);
        dgemm('N', 'N', (int)k, b, (int)rows, 1.0, t, (int)k, Z.data(), (int)rows, 1.0,
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
        dgemm('N', 'N', (int)n, b, (int)rows, 1.0, t, (int)n, U.data() + r0, (int)k, 1.0,
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
  if (!pr.y) {
    std::copy(pr.x, pr.x + m * k, C.begin());
  } else {
    const int64_t R = std::max<int64_t>(1, (int64_t(1) << 19) / std::max<int64_t>(1, m + n));
    std::vector<double> xs, ys;
    for (int64_t t0 = 0; t0 < k; t0 += R) {
      const int64_t r = std::min(R, k - t0);
      ys.assign(pr.y + t0 * n, pr.y + (t0 + r) * n);  // r×n row-major = column-major n×r
      xs.resize((size_t)(m * r));                     // column-major r×m: X[:, t]ᵀ
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < r; ++j) xs[(size_t)(i * r + j)] = (double)pr.x[i * k + t0 + j];
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
  return s[0];
}

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Krylov route; returns false when it did not converge within kMaxPasses.
template <class T>
bool krylov_norm(const ProductPair<T>& pr, double tol, int workers, double* result,
                 int64_t* passes) {
  const int64_t n = pr.n;
  // Block size 8: measured at n = 2048 on 2 loaded cores, b = 4/8/12/16/32/64 took
  // 2.8/2.5/2.7/4.4/6.3/13.6 s for ‖XY‖ and ‖X‖ together (wider blocks need fewer passes,
  // 36 → 14, but each pass does 6·n²·b float64 flops and the pass is compute-bound).
  const int b = kBlock;
  const int cap = (int)std::min<int64_t>(n, std::max(192, 8 * b));
  const int kKeep = std::max(32, 2 * b);
  std::vector<double> V((size_t)(n * cap)), W((size_t)(n * cap)), H((size_t)cap * cap);
  std::vector<double> cand((size_t)(n * std::max(b, kKeep))), coeff((size_t)cap);
  Operator<T> op(pr, workers);
  int p = 0, ncand = b;
  uint64_t seed = 0x5eed ^ (uint64_t)(n * 1315423911ULL + pr.m * 2654435761ULL + pr.k);
  for (int64_t i = 0; i < n * b; ++i)
    cand[(size_t)i] = (double)(splitmix(seed) >> 11) * 0x1.0p-53 - 0.5;
  std::vector<double> Hw, wv, Z, work, tmp;
  std::vector<int> isuppz, iwork;
  double theta = 0.0;
  *passes = 0;
  for (;;) {
    // orthonormalize the candidates against the basis (CGS2) and append them (deflating)
    const int p0 = p;
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
    const int bnew = p - p0;
    if (bnew == 0) break;  // invariant subspace: the Ritz values are exact
    op.apply(V.data() + (int64_t)p0 * n, bnew, W.data() + (int64_t)p0 * n);
    ++*passes;
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
    if (info != 0 || mfound != K) return false;
    theta = wv[(size_t)K - 1];
    const double theta2 = K >= 2 ? wv[(size_t)K - 2] : 0.0;
    // Ritz residual of the top pair: ‖W z − θ V z‖
    const double* z1 = Z.data() + (size_t)(K - 1) * p;
    std::vector<double> x((size_t)n), ax((size_t)n);
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
      break;  // the product is zero on the whole Krylov space (r = 0 follows from θ = 0, H = 0)
    }
    if (r <= tol * theta || (gap > 0.0 && r * r <= tol * theta * gap)) break;
    if (p == n) break;  // the basis spans everything: exact
    if (*passes >= kMaxPasses) return false;
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
  }
  *result = std::sqrt(std::max(0.0, theta));
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
  double total = 0.0;
  for (int64_t i = 0; i < pr.m; ++i) {
    const T* row = pr.x + i * pr.k;
    double s = 0.0;
    for (int64_t j = 0; j < pr.k; ++j) s += (double)row[j] * (double)row[j];
    total += s;
  }
  return std::sqrt(total);
}

template <class T>
void one_pair(const ProductPair<T>& pr, double tol, int workers, double* out, int64_t* info,
              double* fro) {
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

}  // namespace

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
