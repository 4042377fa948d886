// Section of cpp/src/spectra.cpp (per-worker workspace, float64 Gram (dsyrk / tiled), eigensolver choice and driver): included inside its anonymous namespace, in order;
// not a separate translation unit. Moved verbatim from spectra.cpp.
// ---- per-worker workspace -----------------------------------------------------------------------

struct Workspace {
  std::vector<double> gram, panel, w, work, tau, aux;
  std::vector<int> iwork;
  // cached LAPACK workspace queries (by problem size)
  int64_t eig_q = -1;
  int eig_driver = -1;
  int lwork = 0, liwork = 0;
  int64_t trd_q = -1;  // dsytrd's cached workspace query
  int trd_lwork = 0;
};

template <class V>
typename V::value_type* grow(V& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

// Panel length along the accumulation dimension (`other` = the Gram's order q). Large q: panels
// of ~32 MiB of float64, at least 64 long (each pass over a panel also reads and writes the q×q
// Gram, so panels stay long). Small q (≤ 1024: tall-skinny matrices such as embeddings): a
// matrix whose float64 copy fits in 8 MiB is one panel, a larger one is cut into equal panels of
// at most 2 MiB (at least 256 long), so that each panel stays in cache between its conversion and
// the Gram tiles that read it: on the 30522×384 float32 MiniLM embedding that made the Gram
// 29 % faster than 32 MiB panels (4 MiB: 22 %, 8 MiB: 15 %; bench/results/esd.md).
constexpr int64_t kSmallGram = 1024, kWholeDoubles = int64_t(1) << 20, kPanelDoubles = int64_t(1) << 18;
int64_t panel_len(int64_t other, int64_t total) {
  other = std::max<int64_t>(1, other);
  if (other > kSmallGram) return std::min(std::max<int64_t>(64, (int64_t(4) << 20) / other), total);
  if (total <= kWholeDoubles / other) return total;
  const int64_t cap = std::max<int64_t>(256, kPanelDoubles / other);
  const int64_t n = (total + cap - 1) / cap;
  return (total + n - 1) / n;
}

// Tile edge of the Gram: a function of q only (docs/reproducibility.md). 512 from q = 1024
// (3 tiles at q = 1024: two dsyrk and one dgemm of twice their work, balanced on two workers):
// one thread, q = 1024, bf16 input, measured 25.3 ms (K = 1024) and 96.6 ms (K = 4096) against
// 27.4 and 110.6 ms with the 256-tiles (bench/results/spectra.md, issue-9 section).
int64_t gram_tile(int64_t q) {
  return q >= 1024 ? 512 : std::max<int64_t>(128, std::min<int64_t>(512, (q + 3) / 4));
}

// G (+)= the Gram of one float64 block X into the LOWER triangle of G (column-major q×q),
// split into tiles that `threads` workers compute with single-threaded BLAS (our workers never
// spin, unlike OpenBLAS's). Lower, because LAPACK dsytrd('L') is ~10 % faster than 'U' at
// q = 1024 and the band route reads the lower triangle.
// outer: X is column-major k×q (ld), G += XᵀX;  inner: X is column-major q×k (ld), G += XXᵀ.
void gram_tiles(const double* X, int64_t ld, int64_t q, int64_t k, bool outer, bool accumulate,
                double* G, int threads) {
  const double one = 1.0, beta = accumulate ? 1.0 : 0.0;
  const char L = 'L', N = 'N', T = 'T';
  const int iq = to_int(q), ik = to_int(k), ild = to_int(ld);
  if (q < 256) {
    scipy_dsyrk_(&L, outer ? &T : &N, &iq, &ik, &one, X, &ild, &beta, G, &iq, 1, 1);
    return;
  }
  // The tiling depends on q only, never on the thread count: each tile is one single-threaded
  // BLAS call whichever worker runs it, so the Gram is bitwise the same for any `threads`
  // (docs/reproducibility.md). One thread runs the same tiles in order.
  const int64_t tb = gram_tile(q);
  const int64_t nb = (q + tb - 1) / tb;
  const int64_t ntiles = nb * (nb + 1) / 2;
  // tile t ↔ (bi ≥ bj) in column order of the lower triangle
  std::vector<std::pair<int64_t, int64_t>> tiles;
  tiles.reserve((size_t)ntiles);
  for (int64_t bj = 0; bj < nb; ++bj)
    for (int64_t bi = bj; bi < nb; ++bi) tiles.emplace_back(bi, bj);
  parallel_for(ntiles, threads, 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      interrupt_point();
      const int64_t i0 = tiles[(size_t)t].first * tb, j0 = tiles[(size_t)t].second * tb;
      const int ni = to_int(std::min(tb, q - i0)), nj = to_int(std::min(tb, q - j0));
      double* C = G + i0 + j0 * q;
      const double* Xi = outer ? X + i0 * ld : X + i0;
      const double* Xj = outer ? X + j0 * ld : X + j0;
      if (i0 == j0)
        scipy_dsyrk_(&L, outer ? &T : &N, &ni, &ik, &one, Xi, &ild, &beta, C, &iq, 1, 1);
      else if (outer)
        scipy_dgemm_(&T, &N, &ni, &nj, &ik, &one, Xi, &ild, Xj, &ild, &beta, C, &iq, 1, 1);
      else
        scipy_dgemm_(&N, &T, &ni, &nj, &ik, &one, Xi, &ild, Xj, &ild, &beta, C, &iq, 1, 1);
    }
  });
}

// dst = scale · S[r0:r0+p, c0:c0+w] (row-major, ld w), rows split over `threads` workers.
bool convert_block_par(const MatrixRef& S, int64_t r0, int64_t p, int64_t c0, int64_t w, double scale,
                       double* dst, int threads) {
  if (threads <= 1 || p * w < (int64_t(1) << 16)) return convert_block(S, r0, p, c0, w, scale, dst);
  std::atomic<bool> ok{true};
  parallel_for(p, threads, std::max<int64_t>(1, p / (4 * threads)), [&](int64_t b, int64_t e) {
    if (!convert_block(S, r0 + b, e - b, c0, w, scale, dst + b * w)) ok.store(false);
  });
  return ok.load();
}

// Gram of S into G (q×q column-major, lower triangle), scaled by scale² when converting.
// outer: S Sᵀ (rows×rows), else Sᵀ S (cols×cols). direct: float64 input used in place.
bool gram_into(const MatrixRef& S, bool outer, bool direct, double scale, Workspace& ws, double* G,
               int threads) {
  const int64_t q = outer ? S.rows : S.cols;
  if (direct) {
    // C-contiguous S (rows×cols, ld) is the column-major cols×rows matrix B = Sᵀ:
    // S Sᵀ = BᵀB (outer), SᵀS = BBᵀ (inner).
    gram_tiles(static_cast<const double*>(S.data), S.ld, q, outer ? S.cols : S.rows, outer, false, G,
               threads);
    return true;
  }
  if (outer) {  // panels of columns: P = S[:, c0:c0+p] row-major rows×p = column-major p×rows
    const int64_t p = panel_len(S.rows, S.cols);
    double* P = grow(ws.panel, (size_t)(p * S.rows));
    for (int64_t c0 = 0; c0 < S.cols; c0 += p) {
      interrupt_point();
      const int64_t w = std::min(p, S.cols - c0);
      if (!convert_block_par(S, 0, S.rows, c0, w, scale, P, threads)) return false;
      gram_tiles(P, w, q, w, true, c0 > 0, G, threads);
    }
  } else {  // panels of rows: P = S[r0:r0+p, :] row-major p×cols = column-major cols×p
    const int64_t p = panel_len(S.cols, S.rows);
    double* P = grow(ws.panel, (size_t)(p * S.cols));
    for (int64_t r0 = 0; r0 < S.rows; r0 += p) {
      interrupt_point();
      const int64_t h = std::min(p, S.rows - r0);
      if (!convert_block_par(S, r0, h, 0, S.cols, scale, P, threads)) return false;
      gram_tiles(P, S.cols, q, h, false, r0 > 0, G, threads);
    }
  }
  return true;
}

// Which Gram the user's matrix A gets: AᵀA if m ≥ n else AAᵀ, A = S or Sᵀ. In terms of S:
// outer (S Sᵀ) when S has fewer rows than columns; for square S, outer iff S stores Aᵀ.
bool gram_is_outer(const MatrixRef& S) { return S.trans ? S.cols >= S.rows : S.rows < S.cols; }

// Float64 Gram of S with the non-finite / overflow / underflow handling shared by the Gram
// route and gram_batch. On success *scale is the factor the Gram was computed with (σ·scale).
SpectraStatus gram_checked(const MatrixRef& S, Workspace& ws, double* G, double* scale_out,
                           int threads) {
  SpectraStatus st;
  const bool outer = gram_is_outer(S);
  const int64_t q = outer ? S.rows : S.cols;
  double scale = 1.0;
  if (S.dtype == kF64) {
    gram_into(S, outer, /*direct=*/true, 1.0, ws, G, threads);
    double dmax = 0.0, acc = 0.0;
    for (int64_t i = 0; i < q; ++i) {
      const double d = G[i + i * q];
      acc += d * 0.0;
      dmax = std::max(dmax, d);
    }
    const bool finite = acc == 0.0;
    // Redo with an exact power-of-two scaling when the Gram overflowed, or when it is so small
    // that its entries underflow (σ_1² below ~1e-280).
    // (A zero Gram is checked too: it may be an underflowed tiny matrix.)
    if (!finite || dmax < 1e-280) {
      double mx = 0.0;
      if (!scan(S, &mx)) {
        st.code = 1;
        return st;
      }
      if (mx > 0.0) {
        scale = pow2_scale(mx);
        if (!gram_into(S, outer, /*direct=*/false, scale, ws, G, threads)) st.code = 1;
      }
    }
  } else if (!gram_into(S, outer, /*direct=*/false, 1.0, ws, G, threads)) {
    st.code = 1;
  }
  *scale_out = scale;
  return st;
}

// Smallest q for the band route (below it dsyevd is as fast or faster).
constexpr int64_t kBandMinQ = 2048;

int choose_driver(int driver, int64_t q) {
  if (driver != kEigAuto) return driver;
  // Measured eigenvalues at q = 4096 on 2 cores (bench/results/spectra.md), seconds:
  //                         1 thread  2 threads, cores free  2 threads, a core busy elsewhere
  //   dsyevd (pool)         5.4       3.5–3.7                 5.6
  //   dsyevd_2stage (pool)  5.1       3.6                     10.2
  //   band (our sy2sb)      3.6       ≈ 2.2                   —  (whole svdvals: 7.2 s vs 8.1 s
  //                                                              on one thread)
  // LAPACK's two-stage first reduction is level-3 work whose OpenBLAS jobs wait on each other,
  // so it collapses when a core is taken; ours hands tiles out dynamically instead.
  return q >= kBandMinQ ? kEigBand : kEigSyevd;
}

// Eigenvalues (ascending) of the q×q Gram G (lower triangle), destroyed, by LAPACK dsyevd or
// dsyevd_2stage with the OpenBLAS threads the caller set. Returns LAPACK info.
int eig_values(int64_t q, double* G, int driver, Workspace& ws, double* w) {
  const int n = to_int(q);
  const char jobz = 'N', uplo = 'L';  // the Gram is in the lower triangle
  int info = 0;
  driver = choose_driver(driver, q);
  if (ws.eig_q != q || ws.eig_driver != driver) {
    double wq = 0.0;
    int iwq = 0, lw = -1, liw = -1;
    if (driver == kEigSyevd2Stage)
      scipy_dsyevd_2stage_(&jobz, &uplo, &n, G, &n, w, &wq, &lw, &iwq, &liw, &info, 1, 1);
    else
      scipy_dsyevd_(&jobz, &uplo, &n, G, &n, w, &wq, &lw, &iwq, &liw, &info, 1, 1);
    if (info != 0) return info;
    ws.lwork = std::max(1, (int)wq);
    ws.liwork = std::max(1, iwq);
    ws.eig_q = q;
    ws.eig_driver = driver;
  }
  double* work = grow(ws.work, (size_t)ws.lwork);
  int* iwork = grow(ws.iwork, (size_t)ws.liwork);
  const int lw = ws.lwork, liw = ws.liwork;
  if (driver == kEigSyevd2Stage)
    scipy_dsyevd_2stage_(&jobz, &uplo, &n, G, &n, w, work, &lw, iwork, &liw, &info, 1, 1);
  else
    scipy_dsyevd_(&jobz, &uplo, &n, G, &n, w, work, &lw, iwork, &liw, &info, 1, 1);
  return info;
}

// Values-only route for one matrix per worker (64 < q < kBandMinQ): dsytrd('L') here, then the
// tridiagonal eigenvalues of four matrices at a time by dsterf's QL (sterf_lanes) in a second
// pass over the batch. Measured at q = 1024 on one thread (bench/results/spectra.md, issue-9
// section): dsytrd 'L' 48–52 ms vs 'U' 53–57 ms; dsterf 11.0 ms vs 4.1 ms per matrix in four
// lanes; LAPACK's two-stage (dsyevd_2stage / dsyev_2stage) 107 ms and our band route 79–88 ms
// (band widths 8–64) against dsyevd's 69 ms.
//
// dsyevd's guard against under/overflow in the reduction, done exactly: a Gram whose largest
// entry (its largest diagonal entry, by Cauchy–Schwarz) lies outside [2^-485, 2^485] (dsyevd's
// RMIN/RMAX) is scaled by an even power of two 4^t, and *scale by 2^t (σ = √λ / scale).
void rescale_gram(int64_t q, double* G, double* scale) {
  double dmax = 0.0;
  for (int64_t i = 0; i < q; ++i) dmax = std::max(dmax, G[i + i * q]);
  if (!(dmax > 0.0) || (dmax >= 0x1p-485 && dmax <= 0x1p485)) return;
  int ex = 0;
  std::frexp(dmax, &ex);
  const int t = -ex / 2;  // dmax · 4^t within a factor 4 of 1
  const double f = std::ldexp(1.0, 2 * t);
  for (int64_t j = 0; j < q; ++j)
    for (int64_t i = j; i < q; ++i) G[i + j * q] *= f;
  *scale *= std::ldexp(1.0, t);
}

// The symmetric tridiagonal of the q×q Gram G (lower triangle, destroyed) by LAPACK dsytrd on
// the caller's thread: d[0..q), e[0..q−1). Returns LAPACK info.
int tridiagonal(int64_t q, double* G, Workspace& ws, double* d, double* e) {
  const int n = to_int(q);
  const char uplo = 'L';
  int info = 0;
  if (ws.trd_q != q) {
    double wq = 0.0;
    int lw = -1;
    scipy_dsytrd_(&uplo, &n, G, &n, d, e, grow(ws.tau, (size_t)q), &wq, &lw, &info, 1);
    if (info != 0) return info;
    ws.trd_lwork = std::max(1, (int)wq);
    ws.trd_q = q;
  }
  const int lw = ws.trd_lwork;
  scipy_dsytrd_(&uplo, &n, G, &n, d, e, grow(ws.tau, (size_t)q), grow(ws.work, (size_t)lw), &lw, &info, 1);
  return info;
}

// Ascending eigenvalues of a Gram (σ²·scale²) → descending σ.
void eig_to_sigma(const double* w, int64_t q, double scale, double* out) {
  for (int64_t j = 0; j < q; ++j) out[j] = std::sqrt(std::max(w[q - 1 - j], 0.0)) / scale;
}
