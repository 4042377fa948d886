// OpenBLAS thread control. Batch-parallel kernels run many small LAPACK calls on gsa_fast's own
// workers and must keep OpenBLAS single-threaded meanwhile (threaded BLAS inside threaded
// batches oversubscribes the cores; OpenBLAS threads spin-wait). Large single problems do the
// opposite: one caller, threaded BLAS. Never both at once.
#pragma once

#include <mutex>

#include "gsa_fast/linalg/lapack.hpp"
#include "gsa_fast/fork_safety.hpp"

namespace gsa {

// The OpenBLAS thread count is process-global: guards serialize changes to it through
// blas_threads_mutex(), which a forked child replaces (fork_safety.hpp).

// Routes OpenBLAS's parallel regions to gsa_fast's blocking thread pool (cpp/src/blas_pool.cpp)
// instead of OpenBLAS's spinning server threads. Idempotent; process-wide for this library copy.
void install_blas_callback();

// Sets OpenBLAS to n threads for the guard's lifetime and restores the previous count. Code that
// runs under a live guard (it holds the mutex) may change the count in between and set it back.
class BlasThreadsGuard {
 public:
  explicit BlasThreadsGuard(int n) : lock_(blas_threads_mutex()) {
    install_blas_callback();
    prev_ = scipy_openblas_get_num_threads();
    if (forked_during_blas_call()) n = 1;
    if (n >= 1 && n != prev_) scipy_openblas_set_num_threads(n);
  }
  ~BlasThreadsGuard() {
    if (scipy_openblas_get_num_threads() != prev_) scipy_openblas_set_num_threads(prev_);
  }
  BlasThreadsGuard(const BlasThreadsGuard&) = delete;
  BlasThreadsGuard& operator=(const BlasThreadsGuard&) = delete;

 private:
  std::unique_lock<std::mutex> lock_;
  int prev_ = 1;
};

}  // namespace gsa
