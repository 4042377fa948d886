// Section of cpp/src/spectra.cpp (batch driver: largest first, one matrix per worker or tiled): included inside its anonymous namespace, in order;
// not a separate translation unit. Moved verbatim from spectra.cpp.
// ---- batch driver -------------------------------------------------------------------------------

double cost(const MatrixRef& S) {
  const double q = (double)std::min(S.rows, S.cols), p = (double)std::max(S.rows, S.cols);
  return q * q * p + q * q * q;
}

template <class Body>
SpectraStatus run_batch(const MatrixRef* mats, int64_t n, int nthreads, Body body) {
  SpectraStatus first;
  if (n <= 0) return first;
  const ThreadPlan plan = plan_threads(n, nthreads);
  std::vector<int64_t> order((size_t)n);
  std::iota(order.begin(), order.end(), int64_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return cost(mats[a]) > cost(mats[b]); });
  std::atomic<int64_t> next{0};
  std::mutex mu;
  // OpenBLAS stays single-threaded: its idle threads spin-wait, which costs 2–12× on a shared
  // machine (measured, bench/results/spectra.md). Intra-matrix parallelism uses our workers.
  BlasThreadsGuard guard(1);
  parallel_for(plan.batch_workers, plan.batch_workers, 1, [&](int64_t wb, int64_t we) {
    for (int64_t wid = wb; wid < we; ++wid) {
      Workspace ws;
      for (;;) {
        interrupt_point();  // between matrices
        const int64_t j = next.fetch_add(1);
        if (j >= n) break;
        const int64_t i = order[(size_t)j];
        if (std::min(mats[i].rows, mats[i].cols) == 0) continue;
        SpectraStatus st = body(i, ws, plan.matrix_threads);
        if (st.code) {
          st.index = i;
          std::lock_guard<std::mutex> lk(mu);
          keep_first(first, st);
        }
      }
    }
  });
  return first;
}
