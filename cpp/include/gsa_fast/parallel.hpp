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

// Calls fn(begin, end) on contiguous chunks of [0, n). Chunks are handed out dynamically
// (grain items at a time) so ragged work balances. Exceptions from workers are rethrown here.
template <class Fn>
void parallel_for(int64_t n, int nthreads, int64_t grain, Fn&& fn) {
  if (n <= 0) return;
  if (nthreads <= 0) nthreads = default_num_threads();
  grain = std::max<int64_t>(1, grain);
  const int64_t chunks = (n + grain - 1) / grain;
  const int workers = (int)std::min<int64_t>(nthreads, chunks);
  if (workers <= 1) {
    fn(int64_t(0), n);
    return;
  }
  std::atomic<int64_t> next{0};
  std::exception_ptr err;
  std::mutex err_mu;
  InterruptState* const call = current_interrupt();  // workers see the caller's Ctrl-C flag
  auto body = [&]() {
    InterruptAdopt adopt(call);
    try {
      for (;;) {
        const int64_t c = next.fetch_add(1);
        if (c >= chunks) break;
        const int64_t b = c * grain, e = std::min(n, b + grain);
        fn(b, e);
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

}  // namespace gsa
