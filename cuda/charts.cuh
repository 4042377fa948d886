// CUDA launchers for the exponent charts and their residuals (device pointers in and out).
#pragma once

#include <cstdint>

namespace gsa {
namespace cuda {

// One block per spectrum values[starts[i] .. +lengths[i]) (any order for the top chart and the
// radial residual; the others need each spectrum nonincreasing, zeros last, and report any other
// spectrum through status[1]: the caller sorts a temporary copy and runs again). The arithmetic is
// that of gsa_fast/math/charts.hpp, which the CPU kernel (cpp/src/charts.cpp) runs.
//
// d: null (d_i = q_+) or nspec widths. u: a workspace of nu doubles, nu ≥ max(longest spectrum,
// math::charts::kLogTableMin), which the launcher fills with the log table u[k-1] = log k.
// qplus[i]: the number of nonzeros, or −1 − p for a spectrum whose first NaN/Inf/negative value is
// at position p. status: 2 int64 on the device, set by the caller to {INT64_MAX, 0}: status[0]
// becomes the lowest index of a spectrum holding such a value (atomicMin), status[1] 1 when a
// chart that needs the order met an unsorted spectrum. Results are NaN where the CPU kernel's are
// (bad, all-zero or unidentifiable spectra, d_i < q_+, NaN α). Returns a cudaError_t as int.

// The least nu: math::charts::kLogTableMin (the entries the top chart reads).
int64_t charts_log_table_min();

// chart: a gsa::cpu::ChartKind; window k0..k1 (k1 = 0: 1..q_+) for the LS chart; intercept
// (nullable) as the CPU kernel's.
template <class T>  // T = float or double (instantiated in charts.cu)
int charts_fit(const T* values, const int64_t* starts, const int64_t* lengths, int64_t nspec,
               const int64_t* d, int chart, double lo, double hi, int64_t k0, int64_t k1,
               double* u, int64_t nu, double* alpha, double* intercept, int64_t* qplus,
               int64_t* status, uintptr_t stream);

// kind: a gsa::cpu::ResidualKind (the chart error normalized); alpha: nspec exponents.
template <class T>
int charts_residual(const T* values, const int64_t* starts, const int64_t* lengths,
                    int64_t nspec, const int64_t* d, const double* alpha, int kind, double* u,
                    int64_t nu, double* out, int64_t* qplus, int64_t* status, uintptr_t stream);

}  // namespace cuda
}  // namespace gsa
