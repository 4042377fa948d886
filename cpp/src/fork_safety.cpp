// See gsa_fast/fork_safety.hpp.
#include "gsa_fast/fork_safety.hpp"

#include <pthread.h>

#include <atomic>

namespace gsa {
namespace {

std::atomic<std::mutex*> g_blas_mu{nullptr};
std::atomic<bool> g_forked_busy{false};

std::mutex* blas_mu() {
  std::mutex* mu = g_blas_mu.load(std::memory_order_acquire);
  if (mu != nullptr) return mu;
  auto* fresh = new std::mutex;  // leaked on purpose: workers may outlive static destruction
  if (!g_blas_mu.compare_exchange_strong(mu, fresh)) {
    delete fresh;
    return mu;
  }
  return fresh;
}

// Runs in the child, with only the forking thread alive: async-signal-safe enough (no locks are
// taken; a new mutex is plain memory).
void child_after_fork() {
  std::mutex* old = g_blas_mu.load(std::memory_order_relaxed);
  if (old != nullptr) {
    // try_lock on a mutex held by a thread that no longer exists fails: that is the signal
    // that the parent was inside a kernel. (A free one is simply left as it is.)
    if (old->try_lock()) {
      old->unlock();
    } else {
      g_forked_busy.store(true, std::memory_order_relaxed);
      g_blas_mu.store(new std::mutex, std::memory_order_relaxed);
    }
  }
  blas_pool_after_fork_child();
}

struct Registration {
  Registration() { pthread_atfork(nullptr, nullptr, &child_after_fork); }
} registration;

}  // namespace

std::mutex& blas_threads_mutex() { return *blas_mu(); }

bool forked_during_blas_call() { return g_forked_busy.load(std::memory_order_relaxed); }

}  // namespace gsa
