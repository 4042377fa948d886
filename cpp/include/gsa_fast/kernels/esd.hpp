// CPU kernel of the ESD power-law fit (WeightWatcher 0.7.7's WWFit, exactly; docs/esd.md):
// batched over spectra on the library's worker pool, or over the x_min candidates of one spectrum.
#pragma once

#include <cstdint>

namespace gsa {
namespace cpu {

// Per-spectrum status codes written to `status`.
enum EsdStatus : int64_t {
  ESD_OK = 0,
  ESD_TOO_FEW = 1,      // fewer than 2 eigenvalues left to fit (NaN results)
  ESD_ALL_EQUAL = 2,    // every eigenvalue left is the same (NaN results)
  ESD_CLIP_TOO_LARGE = 3,  // xmax clip count > half of the eigenvalues (WeightWatcher fails too)
  ESD_NONFINITE = 4,    // NaN or Inf in the input (caller raises)
  ESD_NEGATIVE = 5,     // a negative eigenvalue beyond rounding (caller raises)
};

struct EsdOptions {
  bool square = false;        // values are singular values: fit their squares
  double thresh = 1e-5;       // keep eigenvalues > thresh (when apply_thresh)
  bool apply_thresh = true;   // WeightWatcher skips the threshold when x_min is given
  const double* xmin_req = nullptr;  // per spectrum, NaN = none (nearest eigenvalue starts the data)
  const double* xmax_req = nullptr;  // per spectrum, NaN = none (nearest eigenvalue ends the data)
  int64_t clip_top = 0;       // drop the largest clip_top eigenvalues first (WeightWatcher's int xmax)
};

struct EsdResults {
  double* alpha;
  double* xmin;
  double* xmax;
  double* D;
  double* sigma;
  int64_t* num_pl_spikes;
  int64_t* num_fit;   // eigenvalues the fit saw (after clip, threshold and limits)
  int64_t* status;    // EsdStatus
};

// values: 1-D float64; spectrum b is values[starts[b] : starts[b] + lengths[b]], any order.
void esd_powerlaw_fit(const double* values, const int64_t* starts, const int64_t* lengths, int64_t nspec,
                      const EsdOptions& opt, const EsdResults& out, int nthreads);

}  // namespace cpu
}  // namespace gsa
