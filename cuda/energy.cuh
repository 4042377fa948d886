// CUDA launchers for per-spectrum reductions (device pointers in and out).
#pragma once

#include <cstdint>

namespace gsa {
namespace cuda {

// Truncation ranks r_ε (spec §8.1) of each spectrum values[starts[i] .. +lengths[i]) (sorted
// descending or ascending; anything else is reported as status 2), for neps ≤ 32 levels eps
// (device array). out: nspec × neps int64. status: nspec int32 (0 ok, 1 non-finite or negative,
// 2 unsorted). Returns a cudaError_t as int.
int truncation_rank_f64(const double* values, const int64_t* starts, const int64_t* lengths,
                        int64_t nspec, const double* eps, int neps, int64_t* out, int32_t* status,
                        uintptr_t stream);
int truncation_rank_f32(const float* values, const int64_t* starts, const int64_t* lengths,
                        int64_t nspec, const double* eps, int neps, int64_t* out, int32_t* status,
                        uintptr_t stream);

}  // namespace cuda
}  // namespace gsa
