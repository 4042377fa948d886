// Batch-level parallelism for CPU kernels: a blocking parallel_for over [0, n) on std::thread.
// Threads are created per call and never spin, so a kernel that runs beside threaded BLAS or
// another process degrades gracefully (see issue on oversubscribed 2-core machines).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "gsa_fast/interrupt.hpp"

namespace gsa {

// Number of worker threads the library uses by default; set from Python (gsa_fast.set_num_threads).
inline int& default_num_threads() {
  static int n = std::max(1u, std::thread::hardware_concurrency());
  return n;
}

// Lowers `target` to v when v is smaller (lock-free; workers reporting the first bad index, a
// shared pruning bound). Relaxed order: the value is read after the workers are joined.
template <class T>
inline void atomic_min(std::atomic<T>& target, T v) {
  T cur = target.load(std::memory_order_relaxed);
  while (v < cur && !target.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
  }
}

// The one per-worker workspace loop. Calls fn(ws, begin, end) on contiguous chunks of [0, n); each
// worker thread builds ONE workspace with make() and reuses it for every chunk it takes (so scratch
// vectors and LAPACK work arrays are allocated once per worker, not per chunk or item). Chunks are
// handed out dynamically (grain items at a time) so ragged work balances. Exceptions from workers
// are rethrown here; workers see the caller's Ctrl-C flag (interrupt.hpp).
template <class Make, class Fn>
void parallel_for_ws(int64_t n, int nthreads, int64_t grain, Make&& make, Fn&& fn) {
  if (n <= 0) return;
  if (nthreads <= 0) nthreads = default_num_threads();
  grain = std::max<int64_t>(1, grain);
  const int64_t chunks = (n + grain - 1) / grain;
  const int workers = (int)std::min<int64_t>(nthreads, chunks);
  if (workers <= 1) {
    auto ws = make();
    fn(ws, int64_t(0), n);
    return;
  }
  std::atomic<int64_t> next{0};
  std::exception_ptr err;
  std::mutex err_mu;
  InterruptState* const call = current_interrupt();  // workers see the caller's Ctrl-C flag
  auto body = [&]() {
    InterruptAdopt adopt(call);
    try {
      auto ws = make();
      for (;;) {
        const int64_t c = next.fetch_add(1);
        if (c >= chunks) break;
        const int64_t b = c * grain, e = std::min(n, b + grain);
        fn(ws, b, e);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lk(err_mu);
      if (!err) err = std::current_exception();
      next.store(chunks);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (int w = 1; w < workers; ++w) pool.emplace_back(body);
  body();
  for (auto& t : pool) t.join();
  if (err) std::rethrow_exception(err);
}

// Calls fn(begin, end) on contiguous chunks of [0, n): parallel_for_ws without a workspace.
template <class Fn>
void parallel_for(int64_t n, int nthreads, int64_t grain, Fn&& fn) {
  struct NoWorkspace {};
  parallel_for_ws(n, nthreads, grain, [] { return NoWorkspace{}; },
                  [&](NoWorkspace&, int64_t b, int64_t e) { fn(b, e); });
}

}  // namespace gsa
