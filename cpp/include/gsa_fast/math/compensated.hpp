// The one compensated adder (issue 7): Neumaier's improved Kahan summation, host and device.
// Used by the charts, orbit, tails and energy kernels.
#pragma once

#include <math.h>

#include "gsa_fast/config.hpp"

namespace gsa {
namespace math {

// Neumaier-compensated accumulator: (s, c) holds the running sum s + c; the error of each
// addition is recovered from whichever operand is larger in magnitude.
struct KahanSum {
  double s = 0.0, c = 0.0;
  GSA_HD void add(double x) {
    const double t = s + x;
    c += (fabs(s) >= fabs(x)) ? ((s - t) + x) : ((x - t) + s);
    s = t;
  }
  GSA_HD double value() const { return s + c; }
  // Merge another accumulator (a block reduction of per-thread sums): its sum, then its error.
  GSA_HD void add(const KahanSum& o) {
    add(o.s);
    c += o.c;
  }
};

}  // namespace math
}  // namespace gsa
