// Section of cpp/src/spectra.cpp (dgesdd route): included inside its anonymous namespace, in order;
// not a separate translation unit. Moved verbatim from spectra.cpp.
// dgesdd on a float64 copy. dgesdd scales badly scaled input itself. LAPACK is fast on tall
// column-major input (QR first): a block with more rows than columns is copied transposed,
// in 64-row panels, so dgesdd sees it tall (rows×cols col-major) instead of wide (issue 7 item 10:
// 30522×384 went from 1.77 s to the speed of scipy on the tall layout).
SpectraStatus svdvals_svd_one(const MatrixRef& S, Workspace& ws, double* out) {
  SpectraStatus st;
  const int64_t q = std::min(S.rows, S.cols);
  double* A = grow(ws.gram, (size_t)(S.rows * S.cols));
  const bool tall = S.rows > S.cols;
  if (!tall) {  // row-major rows×cols = col-major cols×rows: already tall (or square) for LAPACK
    if (!convert_block(S, 0, S.rows, 0, S.cols, 1.0, A)) {
      st.code = 1;
      return st;
    }
  } else {
    const int64_t pr = 64;
    double* P = grow(ws.panel, (size_t)(pr * S.cols));
    for (int64_t r0 = 0; r0 < S.rows; r0 += pr) {
      const int64_t p = std::min(pr, S.rows - r0);
      if (!convert_block(S, r0, p, 0, S.cols, 1.0, P)) {
        st.code = 1;
        return st;
      }
      for (int64_t j = 0; j < S.cols; ++j)  // A(r0 + i, j) col-major, ld rows
        for (int64_t i = 0; i < p; ++i) A[j * S.rows + r0 + i] = P[i * S.cols + j];
    }
  }
  const int m = to_int(tall ? S.rows : S.cols), n = to_int(tall ? S.cols : S.rows), lda = std::max(1, m),
            one = 1;
  const char jobz = 'N';
  int info = 0, lw = -1;
  double wq = 0.0, dummy = 0.0;
  int* iwork = grow(ws.iwork, (size_t)(8 * q));
  scipy_dgesdd_(&jobz, &m, &n, A, &lda, out, &dummy, &one, &dummy, &one, &wq, &lw, iwork, &info, 1);
  if (info == 0) {
    lw = std::max(1, (int)wq);
    double* work = grow(ws.work, (size_t)lw);
    scipy_dgesdd_(&jobz, &m, &n, A, &lda, out, &dummy, &one, &dummy, &one, work, &lw, iwork, &info, 1);
  }
  if (info != 0) {
    st.code = 2;
    st.info = info;
  }
  return st;
}
