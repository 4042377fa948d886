// CPU kernels for exponent charts and residuals (spec §6) on a batch of spectra in the one
// layout of python/gsa_fast/_ragged.py: spectrum i is values[starts[i] .. starts[i]+lengths[i]).
#pragma once

#include <cstdint>

#include "gsa_fast/status.hpp"

namespace gsa {
namespace cpu {

enum ChartKind : int { kChartTop = 0, kChartBures = 1, kChartLsq = 2 };
enum ResidualKind : int { kRadialResidual = 0, kChartError = 1, kTailResidual = 2 };

// Common outputs: qplus[i] = number of nonzero values; *status = the one Status (status.hpp) of
// the lowest-index spectrum holding a NaN/Inf/negative value (code nan/inf/negative, index =
// spectrum, position = its first such value), OK when none. d: nd == 0 → d_i = qplus[i]; nd == n → d_i = d[i]
// (results NaN when d_i < qplus[i]; Python raises). Results are NaN for bad spectra.

// alpha[i] = chart(spectrum i) on J = [lo, hi]; window k0..k1 (1-based; k1 == 0 → 1..q_+) for
// the LS chart; intercept (nullable) gets the LS intercept on the normalized spectrum.
template <class T>
void fit_exponent(const T* values, const int64_t* starts, const int64_t* lengths, int64_t n,
                  const int64_t* d, int64_t nd, int chart, double lo, double hi, int64_t k0,
                  int64_t k1, double* alpha, double* intercept, int64_t* qplus, Status* status,
                  int nthreads);

// out[i] = residual(spectrum i, alpha[i]) for kind in ResidualKind (chart error normalized).
template <class T>
void chart_residual(const T* values, const int64_t* starts, const int64_t* lengths, int64_t n,
                    const int64_t* d, int64_t nd, const double* alpha, int kind, double* out,
                    int64_t* qplus, Status* status, int nthreads);

}  // namespace cpu
}  // namespace gsa
