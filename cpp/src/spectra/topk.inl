// Section of cpp/src/spectra.cpp (randomized top-k range finder): included inside its anonymous namespace, in order;
// not a separate translation unit. Moved verbatim from spectra.cpp.
// ---- randomized top-k ---------------------------------------------------------------------------

// Y (r×l, col-major, ld r) = S·X (X: c×l, ld c)   [adjoint=false]
// Z (c×l, col-major, ld c) = Sᵀ·Y                  [adjoint=true]
// over float64 row panels of S (scaled); *sumsq (optional) gets Σ (scale·s_ij)².
bool apply(const MatrixRef& S, double scale, bool adjoint, const double* X, double* Y,
           Workspace& ws, double* sumsq, int64_t l) {
  const int64_t r = S.rows, c = S.cols;
  const int64_t p = panel_len(c, r);
  double* P = grow(ws.panel, (size_t)(p * c));
  const int il = to_int(l), ic = to_int(c), ir = to_int(r);
  const double one = 1.0, zero = 0.0;
  double ss = 0.0;
  for (int64_t r0 = 0; r0 < r; r0 += p) {
    interrupt_point();
    const int64_t h = std::min(p, r - r0);
    if (!convert_block(S, r0, h, 0, c, scale, P)) return false;
    if (sumsq)
      for (int64_t t = 0; t < h * c; ++t) ss += P[t] * P[t];
    const int ih = to_int(h);
    if (!adjoint) {  // Y[r0:r0+h, :] = Pᵀ X  (P col-major c×h)
      const char T = 'T', N = 'N';
      scipy_dgemm_(&T, &N, &ih, &il, &ic, &one, P, &ic, X, &ic, &zero, Y + r0, &ir, 1, 1);
    } else {  // Z += P · X[r0:r0+h, :]
      const char N = 'N';
      const double beta = r0 == 0 ? 0.0 : 1.0;
      scipy_dgemm_(&N, &N, &ic, &il, &ih, &one, P, &ic, X + r0, &ir, &beta, Y, &ic, 1, 1);
    }
  }
  if (sumsq) *sumsq = ss;
  return true;
}

// Orthonormal basis of the columns of Y (rows×l, col-major) in place. Returns LAPACK info.
int orthonormalize(double* Y, int64_t rows, int64_t l, Workspace& ws) {
  const int m = to_int(rows), n = to_int(l);
  double* tau = grow(ws.tau, (size_t)l);
  int info = 0, lw = -1;
  double q1 = 0.0, q2 = 0.0;
  scipy_dgeqrf_(&m, &n, Y, &m, tau, &q1, &lw, &info);
  if (info) return info;
  scipy_dorgqr_(&m, &n, &n, Y, &m, tau, &q2, &lw, &info);
  if (info) return info;
  lw = std::max(1, (int)std::max(q1, q2));
  double* work = grow(ws.work, (size_t)lw);
  scipy_dgeqrf_(&m, &n, Y, &m, tau, work, &lw, &info);
  if (info) return info;
  scipy_dorgqr_(&m, &n, &n, Y, &m, tau, work, &lw, &info);
  return info;
}

SpectraStatus topk_one(const MatrixRef& S, int64_t k, int64_t oversample, int power_iters,
                       uint64_t seed, int64_t index, Workspace& ws, double* out, double* frob_sq,
                       double* err) {
  SpectraStatus st;
  const int64_t r = S.rows, c = S.cols, q = std::min(r, c);
  const int64_t kk = std::min(k, q);
  double mx = 0.0;
  if (!scan(S, &mx)) {
    st.code = 1;
    return st;
  }
  const double scale = pow2_scale(mx);
  const int64_t l = std::min(kk + oversample, q);
  if (l >= q) {
    // The sketch would be as large as the matrix: compute every value (Gram route, exact
    // Frobenius energy from the same pass) and report a zero truncation bound.
    std::vector<double> all((size_t)q);
    st = svdvals_gram_one(S, kEigAuto, ws, all.data(), 1);
    if (st.code) return st;
    // exact energy: a direct sum of squares (not Σσ², which carries the eigensolver's rounding)
    double ss = 0.0;
    for (int64_t i = 0; i < r; ++i)
      for (int64_t j = 0; j < c; ++j) {
        const double v = load(S.data, S.dtype, i * S.ld + j) * scale;
        ss += v * v;
      }
    *frob_sq = ss / scale / scale;
    *err = 0.0;
    std::copy(all.begin(), all.begin() + kk, out);
    return st;
  }
  // Buffers: Y (r×l), Z (c×l).
  std::vector<double> Y((size_t)(r * l)), Z((size_t)(c * l));
  std::mt19937_64 gen(seed * 0x9E3779B97F4A7C15ULL + (uint64_t)index);
  std::normal_distribution<double> nd(0.0, 1.0);
  for (auto& z : Z) z = nd(gen);
  double ss = 0.0;
  auto fail = [&](int info) {
    st.code = info < 0 ? 1 : 2;
    st.info = info < 0 ? 0 : info;
    return st;
  };
  if (!apply(S, scale, false, Z.data(), Y.data(), ws, &ss, l)) return fail(-1);
  int info = orthonormalize(Y.data(), r, l, ws);
  if (info) return fail(info);
  for (int it = 0; it < power_iters; ++it) {
    if (!apply(S, scale, true, Y.data(), Z.data(), ws, nullptr, l)) return fail(-1);
    if ((info = orthonormalize(Z.data(), c, l, ws))) return fail(info);
    if (!apply(S, scale, false, Z.data(), Y.data(), ws, nullptr, l)) return fail(-1);
    if ((info = orthonormalize(Y.data(), r, l, ws))) return fail(info);
  }
  // Bᵀ = Sᵀ Q (c×l)
  if (!apply(S, scale, true, Y.data(), Z.data(), ws, nullptr, l)) return fail(-1);
  // Residual ‖S − Q B‖_F by a direct pass: per row panel, Eᵀ_R = P − Bᵀ Q_Rᵀ.
  double res = 0.0;
  {
    const int64_t p = panel_len(c, r);
    double* P = grow(ws.panel, (size_t)(p * c));
    const int il = to_int(l), ic = to_int(c), ir = to_int(r);
    const double mone = -1.0, one = 1.0;
    const char N = 'N', T = 'T';
    for (int64_t r0 = 0; r0 < r; r0 += p) {
      const int64_t h = std::min(p, r - r0);
      convert_block(S, r0, h, 0, c, scale, P);
      const int ih = to_int(h);
      scipy_dgemm_(&N, &T, &ic, &ih, &il, &mone, Z.data(), &ic, Y.data() + r0, &ir, &one, P, &ic, 1, 1);
      for (int64_t t = 0; t < h * c; ++t) res += P[t] * P[t];
    }
  }
  // σ(B) by dgesdd on Bᵀ (c×l), destroyed.
  std::vector<double> sv((size_t)l);
  {
    const int m = to_int(c), n = to_int(l), one = 1;
    const char jobz = 'N';
    int lw = -1;
    double wq = 0.0, dummy = 0.0;
    int* iwork = grow(ws.iwork, (size_t)(8 * l));
    scipy_dgesdd_(&jobz, &m, &n, Z.data(), &m, sv.data(), &dummy, &one, &dummy, &one, &wq, &lw, iwork, &info, 1);
    if (info) return fail(info);
    lw = std::max(1, (int)wq);
    double* work = grow(ws.work, (size_t)lw);
    scipy_dgesdd_(&jobz, &m, &n, Z.data(), &m, sv.data(), &dummy, &one, &dummy, &one, work, &lw, iwork, &info, 1);
    if (info) return fail(info);
  }
  for (int64_t j = 0; j < kk; ++j) out[j] = sv[(size_t)j] / scale;
  *frob_sq = ss / scale / scale;
  // 0 ≤ σ_j(A) − σ_j(B) ≤ ‖A − QQᵀA‖_2 ≤ ‖A − QQᵀA‖_F (Weyl; σ_j(B) ≤ σ_j(A) as B = QᵀA).
  *err = std::sqrt(res) / scale;
  return st;
}
