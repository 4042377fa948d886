// CPU executor of math/bulge.hpp. See linalg/bulge.hpp.
#include "gsa_fast/linalg/bulge.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "gsa_fast/interrupt.hpp"
#include "gsa_fast/math/bulge.hpp"
#include "gsa_fast/parallel.hpp"

namespace gsa {
namespace cpu {
namespace {

struct Scratch {
  std::vector<double> y;
  double shared[2] = {0.0, 0.0};
  explicit Scratch(int b) : y((size_t)b) {}
};

// Step j of sweep s on one thread; v/tau: the sweep's reflector.
void run_step(int n, int b, double* W, int ldw, int s, int j, double* V, double* tau, Scratch& sc) {
  const math::BulgeTask t = math::bulge_task(n, b, s, j);
  math::bulge_step(math::SerialTeam(), t, math::bulge_window(W, ldw, t), ldw - 1,
                   V + (size_t)s * b, tau + s, sc.y.data(), sc.shared);
}

// A team of `size` threads with a reusable barrier: the CPU stand-in for a CUDA thread block, so
// that the team-parallel loops and the sync() placement of math/bulge.hpp are exercised here.
class Barrier {
 public:
  explicit Barrier(int n) : n_(n) {}
  void wait() {
    std::unique_lock<std::mutex> lk(mu_);
    const long gen = gen_;
    if (++count_ == n_) {
      count_ = 0;
      ++gen_;
      cv_.notify_all();
    } else {
      cv_.wait(lk, [&] { return gen_ != gen; });
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_, count_ = 0;
  long gen_ = 0;
};

struct ThreadTeam {
  int r, n;
  Barrier* bar;
  int rank() const { return r; }
  int size() const { return n; }
  void sync() const { bar->wait(); }
};

// Serial order, each step run by a team of `team` threads sharing one scratch (as a block shares
// its shared memory).
void chase_team(int n, int b, double* W, int ldw, int S, int team) {
  std::vector<double> V((size_t)b), y((size_t)b);
  double tau = 0.0, shared[2] = {0.0, 0.0};
  Barrier bar(team);
  auto body = [&](int rank) {
    const ThreadTeam tm{rank, team, &bar};
    for (int s = 0; s < S; ++s) {
      const int steps = math::bulge_steps(n, b, s);
      for (int j = 0; j < steps; ++j) {
        const math::BulgeTask t = math::bulge_task(n, b, s, j);
        math::bulge_step(tm, t, math::bulge_window(W, ldw, t), ldw - 1, V.data(), &tau, y.data(),
                         shared);
      }
    }
  };
  std::vector<std::thread> others;
  for (int r = 1; r < team; ++r) others.emplace_back(body, r);
  body(0);
  for (auto& t : others) t.join();
}

// The CUDA kernel's protocol on threads: sweep s on worker s mod workers, step j once
// progress[s − 1] ≥ min(j + shift, steps(s − 1)) (acquire), progress[s] = j + 1 after it (release).
void chase_persistent(int n, int b, double* W, int ldw, int S, int workers, int shift, double* V,
                      double* tau) {
  std::vector<std::atomic<int>> progress((size_t)S);
  for (auto& p : progress) p.store(0, std::memory_order_relaxed);
  auto body = [&](int first) {
    Scratch sc(b);
    for (int s = first; s < S; s += workers) {
      const int steps = math::bulge_steps(n, b, s);
      const int prev = s > 0 ? math::bulge_steps(n, b, s - 1) : 0;
      for (int j = 0; j < steps; ++j) {
        if (s > 0) {
          const int need = j + shift < prev ? j + shift : prev;
          while (progress[(size_t)s - 1].load(std::memory_order_acquire) < need) std::this_thread::yield();
        }
        run_step(n, b, W, ldw, s, j, V, tau, sc);
        progress[(size_t)s].store(j + 1, std::memory_order_release);
      }
    }
  };
  std::vector<std::thread> others;
  for (int w = 1; w < workers; ++w) others.emplace_back(body, w);
  body(0);
  for (auto& t : others) t.join();
}

}  // namespace

int bulge_chase(int64_t n64, int b, double* W, int64_t ldw64, double* d, double* e,
                BulgeOrder order, int threads, int shift, int team) {
  if (n64 < 0 || n64 >= (int64_t(1) << 31) || b < 0 || shift < 2 || team < 1) return -1;
  const int n = (int)n64;
  if (n == 0) return 0;
  if (b > n - 1) b = n - 1;  // rows beyond the matrix hold nothing
  const int ldw = (int)ldw64;
  if (ldw64 < 2 * (int64_t)b || ldw64 < 1 || ldw64 >= (int64_t(1) << 31)) return -1;
  const int S = math::bulge_sweeps(n, b);
  std::vector<double> V((size_t)S * b), tau((size_t)S);
  if (order == BulgeOrder::kSerial && team > 1) {
    if (S > 0) chase_team(n, b, W, ldw, S, team);
  } else if (order == BulgeOrder::kPersistent) {
    if (S > 0) chase_persistent(n, b, W, ldw, S, std::max(1, std::min(threads, S)), shift, V.data(), tau.data());
  } else if (order == BulgeOrder::kSerial) {
    Scratch sc(b);
    for (int s = 0; s < S; ++s) {
      interrupt_point();  // between sweeps
      const int steps = math::bulge_steps(n, b, s);
      for (int j = 0; j < steps; ++j) run_step(n, b, W, ldw, s, j, V.data(), tau.data(), sc);
    }
  } else {
    const int T = math::bulge_wavefronts(n, b, shift);
    Scratch sc(b);
    for (int t = 0; t < T; ++t) {
      if (t % 256 == 0) interrupt_point();
      int lo = 0, hi = 0;
      math::bulge_wavefront_range(n, b, t, &lo, &hi, shift);
      if (threads <= 1) {
        for (int s = hi - 1; s >= lo; --s)
          run_step(n, b, W, ldw, s, t - shift * s, V.data(), tau.data(), sc);
      } else {
        parallel_for_ws(
            hi - lo, threads, 1, [&]() { return Scratch(b); },
            [&](Scratch& ws, int64_t i0, int64_t i1) {
              for (int64_t i = i0; i < i1; ++i) {
                const int s = lo + (int)i;
                run_step(n, b, W, ldw, s, t - shift * s, V.data(), tau.data(), ws);
              }
            });
      }
    }
  }
  for (int i = 0; i < n; ++i) d[i] = W[(size_t)i * ldw];
  if (b >= 1)
    for (int i = 0; i + 1 < n; ++i) e[i] = W[(size_t)i * ldw + 1];
  else
    for (int i = 0; i + 1 < n; ++i) e[i] = 0.0;
  return 0;
}

}  // namespace cpu
}  // namespace gsa
