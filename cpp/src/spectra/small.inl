// Section of cpp/src/spectra.cpp (small matrices (q <= 64): inline Gram + tridiagonal, four-lane QL): included inside its anonymous namespace, in order;
// not a separate translation unit. Moved verbatim from spectra.cpp.
// ---- small matrices: no BLAS/LAPACK call overhead ---------------------------------------------
// For q ≤ kSmallQ the per-call overheads of dsyrk/dsyevd (workspace queries, level-2 BLAS calls
// in the unblocked dsytd2) dominate. Here: a float64 copy Y (K×q, the accumulation index first),
// the Gram by vectorizable rank-4 row updates, a Householder tridiagonalization in the same
// style (LAPACK dlarfg reflectors, lower triangle only), then dsterf's QL run four matrices at a
// time (sterf_lanes). Measured per matrix (1 thread, q = 64, bench/small_path.py): Gram +
// tridiagonal 56 µs, eigenvalues 27 µs (dsterf: 67 µs); numpy's batched dgesdd 193 µs.
constexpr int64_t kSmallQ = 64;

// AVX2/FMA clones of the small-matrix loops with run-time dispatch (the build has no -march).
#define GSA_SMALL_CLONES GSA_CLONES("avx2")

// Y (row-major K×q) = scale · (S if !outer else Sᵀ). False if non-finite.
bool small_copy(const MatrixRef& S, bool outer, double* Y) {
  if (!outer) return convert_block(S, 0, S.rows, 0, S.cols, 1.0, Y);
  // Sᵀ: convert row i of S into column i of Y (K = cols, q = rows)
  double acc = 0.0;
  for (int64_t i = 0; i < S.rows; ++i) {
    const int64_t off = i * S.ld;
    for (int64_t j = 0; j < S.cols; ++j) {
      const double v = load(S.data, S.dtype, off + j);
      acc += v * 0.0;
      Y[j * S.rows + i] = v;
    }
  }
  return acc == 0.0;
}

// Householder tridiagonalization of the symmetric row-major n×n A given by its lower triangle
// (destroyed): diagonal d[0..n), off-diagonal e[0..n-1); u, p are n-long scratch.
GSA_SMALL_CLONES void small_tridiag(double* A, int64_t n, double* d, double* e, double* u, double* p) {
  for (int64_t k = 0; k + 1 < n; ++k) {
    const int64_t m = n - k - 1;  // length of x = A[k+1:, k]
    d[k] = A[k * n + k];
    double* A22 = A + (k + 1) * n + (k + 1);
    const double x0 = A[(k + 1) * n + k];
    double xmax = 0.0;
    for (int64_t i = 1; i < m; ++i) xmax = std::max(xmax, std::fabs(A[(k + 1 + i) * n + k]));
    if (m == 1 || xmax == 0.0) {  // nothing to annihilate
      e[k] = x0;
      continue;
    }
    xmax = std::max(xmax, std::fabs(x0));
    double ss = 0.0;
    for (int64_t i = 0; i < m; ++i) {
      const double t = A[(k + 1 + i) * n + k] / xmax;
      ss += t * t;
    }
    const double norm = xmax * std::sqrt(ss);
    const double beta = x0 >= 0 ? -norm : norm;  // H x = beta e_1
    const double tau = (beta - x0) / beta;
    const double inv = 1.0 / (x0 - beta);
    u[0] = 1.0;
    for (int64_t i = 1; i < m; ++i) u[i] = A[(k + 1 + i) * n + k] * inv;
    e[k] = beta;
    // p = τ A22 u from the lower triangle only: row i gives the dot Σ_{j<i} a_ij u_j to p_i and
    // the axpy a_ij·u_i to p_j (j < i); both contiguous in the row.
    for (int64_t j = 0; j < m; ++j) p[j] = 0.0;
    for (int64_t i = 0; i < m; ++i) {
      const double ui = u[i];
      const double* row = A22 + i * n;
      // four-lane partial sums (simd.hpp's v4d: the dot vectorizes without -ffast-math)
      v4d acc = {0.0, 0.0, 0.0, 0.0};
      const v4d vu = {ui, ui, ui, ui};
      int64_t j = 0;
      for (; j + 4 <= i; j += 4) {
        v4d r, uu, pp;
        load4(r, row + j);
        load4(uu, u + j);
        load4(pp, p + j);
        acc += r * uu;
        pp += r * vu;
        store4(p + j, pp);
      }
      double dot = hsum4(acc);
      for (; j < i; ++j) {
        dot += row[j] * u[j];
        p[j] += row[j] * ui;
      }
      p[i] += dot + row[i] * ui;
    }
    for (int64_t j = 0; j < m; ++j) p[j] *= tau;
    double pu = 0.0;
    for (int64_t j = 0; j < m; ++j) pu += p[j] * u[j];
    const double K = 0.5 * tau * pu;
    for (int64_t j = 0; j < m; ++j) p[j] -= K * u[j];  // p is now w
    // A22 −= u wᵀ + w uᵀ, lower triangle only (half the flops of the full update)
    for (int64_t i = 0; i < m; ++i) {
      const double ui = u[i], wi = p[i];
      double* row = A22 + i * n;
      for (int64_t j = 0; j <= i; ++j) row[j] -= ui * p[j] + wi * u[j];
    }
  }
  d[n - 1] = A[(n - 1) * n + (n - 1)];
}

// The tridiagonal T (d, e: q entries each, e[q-1] scratch) of scale²·Gram of S, scale an exact
// power of two bringing max|s| to [0.5, 1) (the Gram and its reduction stay O(K)). False if S is
// not finite.
GSA_SMALL_CLONES bool small_reduce(const MatrixRef& S, Workspace& ws, double* d, double* e,
                                   double* scale_out) {
  const bool outer = S.rows < S.cols;  // the smaller side (σ does not care which for square)
  const int64_t q = outer ? S.rows : S.cols, K = outer ? S.cols : S.rows;
  double* Y = grow(ws.panel, (size_t)(K * q));
  if (!small_copy(S, outer, Y)) return false;
  double mx = 0.0;
  for (int64_t t = 0; t < K * q; ++t) mx = std::max(mx, std::fabs(Y[t]));
  const double scale = pow2_scale(mx);
  for (int64_t t = 0; t < K * q; ++t) Y[t] *= scale;
  double* G = grow(ws.gram, (size_t)(q * q));
  std::fill(G, G + q * q, 0.0);
  // lower triangle (j ≤ i) only: small_tridiag reads no more. Rank-4 updates: each load and
  // store of G carries four products (measured 1.6× faster than rank-1 at q = 64).
  int64_t k = 0;
  for (; k + 4 <= K; k += 4) {
    const double *y0 = Y + k * q, *y1 = y0 + q, *y2 = y1 + q, *y3 = y2 + q;
    for (int64_t i = 0; i < q; ++i) {
      const double c0 = y0[i], c1 = y1[i], c2 = y2[i], c3 = y3[i];
      double* row = G + i * q;
      for (int64_t j = 0; j <= i; ++j) row[j] += (c0 * y0[j] + c1 * y1[j]) + (c2 * y2[j] + c3 * y3[j]);
    }
  }
  for (; k < K; ++k) {
    const double* y = Y + k * q;
    for (int64_t i = 0; i < q; ++i) {
      const double c = y[i];
      double* row = G + i * q;
      for (int64_t j = 0; j <= i; ++j) row[j] += c * y[j];
    }
  }
  double* u = grow(ws.aux, (size_t)(2 * q));
  small_tridiag(G, q, d, e, u, u + q);
  *scale_out = scale;
  return true;
}

// Small matrices (q ≤ kSmallQ) in chunks: each chunk is reduced to tridiagonals one matrix at a
// time, then all their eigenvalues come out of sterf_lanes, which runs four of them interleaved
// (dsterf's latency-bound inner loop, measured 2.0–2.3× faster than dsterf per matrix).
constexpr int64_t kSmallChunk = 32;

SpectraStatus svdvals_small_chunk(const MatrixRef* mats, const int64_t* idx, int64_t count,
                                  double* out, const int64_t* out_offsets, Workspace& ws) {
  SpectraStatus first;
  int64_t total = 0;  // d and e of every matrix, q entries each
  for (int64_t t = 0; t < count; ++t) total += 2 * std::min(mats[idx[t]].rows, mats[idx[t]].cols);
  std::vector<double> tri((size_t)total);
  std::vector<int64_t> ns, slot;
  std::vector<double> scales;
  std::vector<double*> dp, ep;
  double* next = tri.data();
  for (int64_t t = 0; t < count; ++t) {
    const int64_t i = idx[t];
    const MatrixRef& S = mats[i];
    const int64_t q = std::min(S.rows, S.cols);
    double* d = next;
    next += 2 * q;
    double scale = 1.0;
    if (!small_reduce(S, ws, d, d + q, &scale)) {
      keep_first(first, SpectraStatus{kStatusNonFinite, i, -1, 0});
      continue;
    }
    ns.push_back(q);
    dp.push_back(d);
    ep.push_back(d + q);
    scales.push_back(scale);
    slot.push_back(i);
  }
  std::vector<int> info(ns.size());
  sterf_lanes((int64_t)ns.size(), ns.data(), dp.data(), ep.data(), info.data());
  for (size_t k = 0; k < ns.size(); ++k) {
    if (info[k] != 0) {
      keep_first(first, SpectraStatus{kStatusLapack, slot[k], -1, info[k]});
      continue;
    }
    eig_to_sigma(dp[k], ns[k], scales[k], out + out_offsets[slot[k]]);
  }
  return first;
}

SpectraStatus svdvals_small_one(const MatrixRef& S, Workspace& ws, double* out) {
  const int64_t idx = 0, off = 0;
  return svdvals_small_chunk(&S, &idx, 1, out, &off, ws);
}

// Whether a matrix of the Gram route takes the tridiagonal route (dsytrd('L') on its worker, then
// sterf_lanes): the default for 64 < q < kBandMinQ when the matrix has one worker, and from q < 256
// also when it has several (OpenBLAS does not thread so small a dsyevd, and one route for every
// thread count keeps the result bitwise the same, docs/reproducibility.md). Larger matrices with
// several workers keep LAPACK dsyevd on gsa_fast's pool (threaded, 1.6–2.1× one thread).
bool tridiagonal_route(int driver, int64_t q, int threads) {
  if (driver == kEigSytrd) return q > 0;
  return driver == kEigAuto && q > kSmallQ && q < kBandMinQ && (threads <= 1 || q < 256);
}

// Gram (threads workers for its tiles) and its tridiagonal for one matrix of the tridiagonal
// route: d (q entries) into d, e (q − 1 entries, room for q + 1) into e, the exact scale into
// *scale. Eigenvalues come later from tridiagonal_values.
SpectraStatus gram_tridiagonal_one(const MatrixRef& S, Workspace& ws, double* d, double* e, double* scale,
                                   int threads) {
  const int64_t q = std::min(S.rows, S.cols);
  double* G = grow(ws.gram, (size_t)(q * q));
  SpectraStatus st = gram_checked(S, ws, G, scale, threads);
  if (st.code) return st;
  rescale_gram(q, G, scale);
  const int info = tridiagonal(q, G, ws, d, e);
  if (info != 0) {
    st.code = kStatusLapack;
    st.info = info;
  }
  return st;
}

// Eigenvalues of count tridiagonals left by gram_tridiagonal_one (j = sel[t]: d at
// out + out_offsets[idx[j]], e at ebuf + eoff[j], scale scales[j]) four at a time by sterf_lanes
// (per lane bitwise independent of its neighbours, so of the chunking), then σ descending in place.
// Chunks of four: one lane each, and a batch's last chunk leaves the other worker idle for at
// most four QL runs (≈ 16 ms at q = 1024).
constexpr int64_t kTridiagChunk = 4;

SpectraStatus tridiagonal_values(const MatrixRef* mats, const int64_t* sel, int64_t count, const int64_t* idx,
                                 double* out, const int64_t* out_offsets, double* ebuf, const int64_t* eoff,
                                 const double* scales, Workspace& ws) {
  SpectraStatus first;
  std::vector<int64_t> ns((size_t)count);
  std::vector<double*> dp((size_t)count), ep((size_t)count);
  std::vector<int> info((size_t)count);
  for (int64_t t = 0; t < count; ++t) {
    const int64_t j = sel[t];
    ns[(size_t)t] = std::min(mats[j].rows, mats[j].cols);
    dp[(size_t)t] = out + out_offsets[idx[j]];
    ep[(size_t)t] = ebuf + eoff[j];
  }
  sterf_lanes(count, ns.data(), dp.data(), ep.data(), info.data());
  for (int64_t t = 0; t < count; ++t) {
    const int64_t j = sel[t], q = ns[(size_t)t];
    if (info[(size_t)t] != 0) {
      keep_first(first, SpectraStatus{kStatusLapack, idx[j], -1, info[(size_t)t]});
      continue;
    }
    double* w = grow(ws.w, (size_t)q);
    std::copy(dp[(size_t)t], dp[(size_t)t] + q, w);
    eig_to_sigma(w, q, scales[j], dp[(size_t)t]);
  }
  return first;
}

SpectraStatus svdvals_gram_one(const MatrixRef& S, int driver, Workspace& ws, double* out,
                               int threads) {
  if (std::min(S.rows, S.cols) <= kSmallQ && driver == kEigAuto) return svdvals_small_one(S, ws, out);
  const int64_t q = std::min(S.rows, S.cols);
  if (tridiagonal_route(driver, q, threads)) {  // one matrix: its own second pass
    std::vector<double> e((size_t)q + 1);
    double scale = 1.0;
    SpectraStatus st = gram_tridiagonal_one(S, ws, out, e.data(), &scale, threads);
    if (st.code) return st;
    const int64_t sel = 0, idx = 0, off = 0, eoff = 0;
    return tridiagonal_values(&S, &sel, 1, &idx, out, &off, e.data(), &eoff, &scale, ws);
  }
  double* G = grow(ws.gram, (size_t)(q * q));
  double scale = 1.0;
  SpectraStatus st = gram_checked(S, ws, G, &scale, threads);
  if (st.code) return st;
  double* w = grow(ws.w, (size_t)q);
  int info = 0;
  if (choose_driver(driver, q) == kEigBand) {
    info = band_eigvalues(q, G, q, threads, w);  // reads the Gram's lower triangle
  } else {
    // threads > 1 only comes from run_batch with a single batch worker, which holds the
    // OpenBLAS guard: LAPACK gets that many OpenBLAS threads, run on gsa_fast's blocking pool
    // (measured at q = 4096 on 2 cores: 1.4× faster when both are free, 3 % slower than one
    // thread when another process holds a core; OpenBLAS's own threads: 37 % slower there).
    // (not in a child forked mid-call: OpenBLAS's threaded driver may be locked there)
    const bool blas_mt = threads > 1 && !forked_during_blas_call();
    if (blas_mt) scipy_openblas_set_num_threads(threads);
    info = eig_values(q, G, driver, ws, w);
    if (blas_mt) scipy_openblas_set_num_threads(1);
  }
  if (info != 0) {
    st.code = 2;
    st.info = info;
    return st;
  }
  eig_to_sigma(w, q, scale, out);
  return st;
}
