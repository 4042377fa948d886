// OpenBLAS thread control. Batch-parallel kernels run many small LAPACK calls on gsa_fast's own
// workers and must keep OpenBLAS single-threaded meanwhile (threaded BLAS inside threaded
// batches oversubscribes the cores; OpenBLAS threads spin-wait). Large single problems do the
// opposite: one caller, threaded BLAS. Never both at once.
#pragma once

#include <mutex>

#include "gsa_fast/lapack.hpp"

namespace gsa {

// The OpenBLAS thread count is process-global: guards serialize changes to it.
inline std::mutex& blas_threads_mutex() {
  static std::mutex mu;
  return mu;
}

// Sets OpenBLAS to n threads for the guard's lifetime and restores the previous count.
class BlasThreadsGuard {
 public:
  explicit BlasThreadsGuard(int n) : lock_(blas_threads_mutex()) {
    prev_ = scipy_openblas_get_num_threads();
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
