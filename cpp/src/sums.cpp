#include "gsa_fast/kernels/sums.hpp"

#include "gsa_fast/math/harmonic.hpp"
#include "gsa_fast/parallel.hpp"

namespace gsa {
namespace cpu {

void harmonic_range(const int64_t* a, const int64_t* b, const double* s, int64_t n,
                    double* out_h, double* out_l, double* out_q, int nthreads) {
  parallel_for(n, nthreads, 1024, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const math::Sums3 r = math::harmonic_range(a[i], b[i], s[i]);
      if (out_h) out_h[i] = r.h;
      if (out_l) out_l[i] = r.l;
      if (out_q) out_q[i] = r.q;
    }
  });
}

}  // namespace cpu
}  // namespace gsa
