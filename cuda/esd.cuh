// CUDA launcher of the ESD power-law fit (WeightWatcher 0.7.7's WWFit; device pointers in and out).
#pragma once

#include <cstdint>

namespace gsa {
namespace cuda {

// One block per spectrum b of sorted[starts[b] .. + lengths[b]) (float64, sorted ascending: the
// eigenvalues, already squared when they were singular values), the steps of cpp/src/esd.cpp
// through the same math/esd.hpp functions: the NaN/Inf and negative checks, esd_range (clip_top,
// threshold, xmin_req/xmax_req per spectrum or null: NaN = not given, +inf = "force"), log x, the
// double-double suffix sums, then the small-N rule (N < 20) or the standard rule's exact first
// minimum of D over all candidates (16 seeds scanned in full give the first bound; every other
// candidate's KS scan stops once its running maximum exceeds the best D so far, 256 terms at a
// time). work: 4·lengths[b] + 2 doubles per spectrum from work_start[b]. Outputs per spectrum as
// cpu::EsdResults (status: cpu::EsdStatus). Returns a cudaError_t as int.
int esd_powerlaw_fit(const double* sorted, const int64_t* starts, const int64_t* lengths,
                     int64_t nspec, int64_t clip_top, bool apply_thresh, double thresh,
                     const double* xmin_req, const double* xmax_req, double* work,
                     const int64_t* work_start, double* alpha, double* xmin, double* xmax,
                     double* D, double* sigma, int64_t* num_pl_spikes, int64_t* num_fit,
                     int64_t* status, uintptr_t stream);

}  // namespace cuda
}  // namespace gsa
