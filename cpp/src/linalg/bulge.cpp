// CPU executor of math/bulge.hpp. See linalg/bulge.hpp.
#include "gsa_fast/linalg/bulge.hpp"

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

}  // namespace

int bulge_chase(int64_t n64, int b, double* W, int64_t ldw64, double* d, double* e,
                BulgeOrder order, int threads, int shift) {
  if (n64 < 0 || n64 >= (int64_t(1) << 31) || b < 0 || shift < 2) return -1;
  const int n = (int)n64;
  if (n == 0) return 0;
  if (b > n - 1) b = n - 1;  // rows beyond the matrix hold nothing
  const int ldw = (int)ldw64;
  if (ldw64 < 2 * (int64_t)b || ldw64 < 1 || ldw64 >= (int64_t(1) << 31)) return -1;
  const int S = math::bulge_sweeps(n, b);
  std::vector<double> V((size_t)S * b), tau((size_t)S);
  if (order == BulgeOrder::kSerial) {
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
