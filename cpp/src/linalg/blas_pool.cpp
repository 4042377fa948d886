// OpenBLAS's parallel regions on gsa_fast's own blocking threads (see blas_threads.hpp).
//
// OpenBLAS's server threads spin-wait between and inside calls; on a shared 2-core machine that
// made threaded LAPACK 1.4–8× slower than one thread (bench/results/spectra.md). OpenBLAS lets
// the caller run its parallel regions instead (openblas_set_threads_callback_function). Here
// every region's jobs run on a small persistent pool whose idle workers sleep on a condition
// variable, so a threaded eigensolver costs nothing while a competing process holds a core.
//
// Contract with OpenBLAS (its exec_blas): all numjobs jobs must run at the same time (threaded
// level-3 jobs wait on each other), and the call returns only when all are done. Calls are
// serialized on the pool (jobs of two calls would share OpenBLAS's per-thread buffers); a call
// that finds the pool busy (another caller thread, or a nested region) runs on threads of its
// own. After fork() a child starts a new pool (the parent's workers do not exist there).
#include <unistd.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "gsa_fast/linalg/blas_threads.hpp"
#include "gsa_fast/linalg/lapack.hpp"
#include "gsa_fast/fork_safety.hpp"

namespace gsa {
namespace {

using Dojob = scipy_openblas_dojob_callback;

class JobPool {
 public:
  JobPool() : pid_(getpid()) {}
  pid_t pid() const { return pid_; }

  // Runs jobs 1..n-1 on the workers and job 0 on the caller. False (nothing run) if busy.
  bool try_run(Dojob job, int n, size_t elsize, char* data, int arg) {
    std::unique_lock<std::mutex> call(call_mu_, std::try_to_lock);
    if (!call.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> lk(mu_);
      while ((int)workers_ < n - 1) {
        const int w = ++workers_;  // worker w runs job w; it starts from the current generation,
        const uint64_t g = generation_;  // so it sees the one this call is about to announce
        std::thread([this, w, g] { work(w, g); }).detach();
      }
      job_ = job;
      data_ = data;
      elsize_ = elsize;
      arg_ = arg;
      njobs_ = n;
      pending_ = n - 1;
      ++generation_;
    }
    work_cv_.notify_all();
    job(0, data, arg);
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [&] { return pending_ == 0; });
    return true;
  }

 private:
  void work(int w, uint64_t seen) {
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
      work_cv_.wait(lk, [&] { return generation_ != seen; });
      seen = generation_;
      if (w >= njobs_) continue;
      const Dojob job = job_;
      char* const data = data_;
      const size_t elsize = elsize_;
      const int arg = arg_;
      lk.unlock();
      job(w, data + (size_t)w * elsize, arg);
      lk.lock();
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }

  const pid_t pid_;
  std::mutex call_mu_, mu_;
  std::condition_variable work_cv_, done_cv_;
  int workers_ = 0;
  uint64_t generation_ = 0;
  int njobs_ = 0, pending_ = 0, arg_ = 0;
  Dojob job_ = nullptr;
  char* data_ = nullptr;
  size_t elsize_ = 0;
};

std::mutex* g_pool_mu = new std::mutex;  // leaked: workers may outlive static destruction
JobPool* g_pool = nullptr;

std::mutex& pool_mutex() { return *g_pool_mu; }

JobPool* current_pool() {
  JobPool*& pool = g_pool;
  std::lock_guard<std::mutex> lk(pool_mutex());
  if (pool == nullptr || pool->pid() != getpid()) pool = new JobPool;  // (a forked child's old pool is leaked)
  return pool;
}

// A call that found the pool busy: its own threads, joined before returning.
void run_on_fresh_threads(Dojob job, int n, size_t elsize, char* data, int arg) {
  std::vector<std::thread> threads;
  threads.reserve((size_t)n - 1);
  for (int w = 1; w < n; ++w) threads.emplace_back([=] { job(w, data + (size_t)w * elsize, arg); });
  job(0, data, arg);
  for (auto& t : threads) t.join();
}

void openblas_callback(int /*sync*/, Dojob job, int numjobs, size_t elsize, void* jobdata, int arg) {
  char* data = static_cast<char*>(jobdata);
  if (numjobs <= 1) {
    if (numjobs == 1) job(0, data, arg);
    return;
  }
  if (!current_pool()->try_run(job, numjobs, elsize, data, arg))
    run_on_fresh_threads(job, numjobs, elsize, data, arg);
}

}  // namespace

// fork_safety.cpp's child handler: the parent's pool (and a pool mutex some parent thread may
// have held) are abandoned; the next parallel region starts a new pool.
void blas_pool_after_fork_child() {
  g_pool_mu = new std::mutex;
  g_pool = nullptr;
}

void install_blas_callback() {
  static std::once_flag once;
  std::call_once(once, [] { scipy_openblas_set_threads_callback_function(&openblas_callback); });
}

}  // namespace gsa
