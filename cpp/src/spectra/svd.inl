// Section of cpp/src/spectra.cpp (dgesdd stages route (interruptible)): included inside its anonymous namespace, in order;
// not a separate translation unit. Moved verbatim from spectra.cpp.
// Singular values of a float64 copy by dgesdd's stages, one panel at a time (svd_stages.hpp:
// interruptible). The copy is laid out tall column-major (m ≥ n), the shape dgesdd starts from:
// S itself read as column-major is cols×rows, tall when cols ≥ rows; otherwise the copy is
// transposed in blocks of rows. LAPACK's reductions are scale-invariant up to over/underflow;
// values beyond that range are handled by an exact power-of-two scaling, as dgesdd does.
SpectraStatus svdvals_svd_one(const MatrixRef& S, Workspace& ws, double* out) {
  SpectraStatus st;
  const bool tall = S.cols >= S.rows;
  const int64_t m = tall ? S.cols : S.rows, n = tall ? S.rows : S.cols;
  double* A = grow(ws.gram, (size_t)(S.rows * S.cols));
  double mx = 0.0;
  if (!scan(S, &mx)) {
    st.code = 1;
    return st;
  }
  // dgesdd's own rule: scale into [sqrt(safmin)/eps, sqrt(safmax)·eps] when outside
  const double scale = (mx > 0.0 && (mx < 1e-140 || mx > 1e140)) ? pow2_scale(mx) : 1.0;
  if (tall) {
    const int64_t blk = std::max<int64_t>(1, (int64_t(1) << 20) / std::max<int64_t>(1, S.cols));
    for (int64_t r0 = 0; r0 < S.rows; r0 += blk) {
      interrupt_point();
      convert_block(S, r0, std::min(blk, S.rows - r0), 0, S.cols, scale, A + r0 * S.cols);
    }
  } else {  // A (col-major rows×cols) = S: blocks of 64 rows, converted then scattered
    constexpr int64_t kB = 64;
    double* P = grow(ws.panel, (size_t)(kB * S.cols));
    for (int64_t r0 = 0; r0 < S.rows; r0 += kB) {
      interrupt_point();
      const int64_t h = std::min(kB, S.rows - r0);
      convert_block(S, r0, h, 0, S.cols, scale, P);
      for (int64_t j = 0; j < S.cols; ++j)
        for (int64_t i = 0; i < h; ++i) A[r0 + i + j * S.rows] = P[i * S.cols + j];
    }
  }
  const int info = svd_values_staged(m, n, A, m, out, ws.work);
  if (info != 0) {
    st.code = 2;
    st.info = info;
    return st;
  }
  for (int64_t j = 0; j < n; ++j) out[j] /= scale;
  return st;
}
