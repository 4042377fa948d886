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
  std::mutex mu;
  // OpenBLAS stays single-threaded: its idle threads spin-wait, which costs 2–12× on a shared
  // machine (measured, bench/results/spectra.md). Intra-matrix parallelism uses our workers.
  BlasThreadsGuard guard(1);
  // largest first, one matrix at a time, one workspace per worker (parallel.hpp)
  parallel_for_ws(n, plan.batch_workers, 1, [] { return Workspace{}; },
                  [&](Workspace& ws, int64_t jb, int64_t je) {
    for (int64_t j = jb; j < je; ++j) {
      interrupt_point();  // between matrices
      const int64_t i = order[(size_t)j];
      if (std::min(mats[i].rows, mats[i].cols) == 0) continue;
      SpectraStatus st = body(i, ws, plan.matrix_threads);
      if (st.code) {
        st.index = i;
        std::lock_guard<std::mutex> lk(mu);
        keep_first(first, st);
      }
    }
  });
  return first;
}
