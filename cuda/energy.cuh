// CUDA launchers for per-spectrum reductions (device pointers in and out).
#pragma once

#include <cstdint>

namespace gsa {
namespace cuda {

// Truncation ranks r_ε (spec §8.1) of each spectrum values[starts[i] .. +lengths[i]) (sorted
// descending or ascending; anything else is reported as unsorted), for neps ≤ 32 levels eps
// (device array). out: nspec × neps int64. status: 2 int64 on the device, set by the caller to
// {INT64_MAX, 0}: status[0] becomes the lowest index of a spectrum holding NaN, Inf or a negative
// value (atomicMin), status[1] 1 when some spectrum is unsorted; Python turns them into the one
// Status (gsa_fast._status). Returns a cudaError_t as int.
int truncation_rank_f64(const double* values, const int64_t* starts, const int64_t* lengths,
                        int64_t nspec, const double* eps, int neps, int64_t* out, int64_t* status,
                        uintptr_t stream);
int truncation_rank_f32(const float* values, const int64_t* starts, const int64_t* lengths,
                        int64_t nspec, const double* eps, int neps, int64_t* out, int64_t* status,
                        uintptr_t stream);

// Order-free statistics of each spectrum values[starts[i] .. +lengths[i)) (any order), one block
// per spectrum, float64 accumulation, the arithmetic of gsa_fast/math/energy.hpp:
//   out_rank[i]    = #{k : σ_k > tol}                       (rank_count, spec §2.3)
//   out_entropy[i] = −Σ p_k log p_k, p = σ²/Σσ²             (spectral_entropy, spec §4.4)
//   out_radial[i]  = ½ log d − ½ log1p(Σ_{k≥2} σ_k²/σ_1²)   (radial_functional, spec §4.2)
//                    d = radial_d[i] if radial_d else the number of σ > 0
// Each output pointer may be null (not computed). status: 1 int64 on the device, set by the
// caller to INT64_MAX; becomes the lowest index of a spectrum holding NaN, Inf or a negative value
// (atomicMin; that spectrum's outputs are then unspecified). Returns a cudaError_t as int.
int spectrum_stats_f64(const double* values, const int64_t* starts, const int64_t* lengths,
                       int64_t nspec, double tol, const int64_t* radial_d, int64_t* out_rank,
                       double* out_entropy, double* out_radial, int64_t* status, uintptr_t stream);
int spectrum_stats_f32(const float* values, const int64_t* starts, const int64_t* lengths,
                       int64_t nspec, double tol, const int64_t* radial_d, int64_t* out_rank,
                       double* out_entropy, double* out_radial, int64_t* status, uintptr_t stream);

// Tail function T(r), r = 0..q_i, into out_tails[tails_start[i] ..], and energies ν_k (descending)
// into out_energy[energy_start[i] ..], of each spectrum sorted descending or ascending (either
// output pointer may be null). status: 2 int64 as for truncation_rank ({first invalid spectrum,
// any unsorted}); the outputs of an invalid or unsorted spectrum are left unwritten. T(0) = 1,
// T(q) = 0, nonincreasing; an all-zero or empty spectrum gives zeros. Returns a cudaError_t.
int tails_energy_f64(const double* values, const int64_t* starts, const int64_t* lengths,
                     int64_t nspec, double* out_tails, const int64_t* tails_start,
                     double* out_energy, const int64_t* energy_start, int64_t* status,
                     uintptr_t stream);
int tails_energy_f32(const float* values, const int64_t* starts, const int64_t* lengths,
                     int64_t nspec, double* out_tails, const int64_t* tails_start,
                     double* out_energy, const int64_t* energy_start, int64_t* status,
                     uintptr_t stream);

}  // namespace cuda
}  // namespace gsa
