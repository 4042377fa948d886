// CPU kernels for per-spectrum energy quantities (spec §8.1, §4.2, §4.4) on a batch of spectra in
// the layout of python/gsa_fast/_ragged.py: spectrum i is values[starts[i] : starts[i]+lengths[i]],
// singular values σ ≥ 0 in any order.
#pragma once

#include <cstdint>

#include "gsa_fast/status.hpp"

namespace gsa {
namespace cpu {

// What to compute. Every output pointer may be null (skipped). Outputs are float64 (ranks int64).
struct EnergyRequest {
  // r_ε for each of neps values of eps (in [0, 1)): ranks_eps[i*neps + j].
  const double* eps = nullptr;
  int64_t neps = 0;
  int64_t* ranks_eps = nullptr;
  // T(r), r = 0..q_i, written at tails[tails_start[i] + r].
  double* tails = nullptr;
  const int64_t* tails_start = nullptr;
  // ν_k (descending order), k = 0..q_i−1, written at energy[energy_start[i] + k].
  double* energy = nullptr;
  const int64_t* energy_start = nullptr;
  // Spectral entropy −Σ p log p, one per spectrum.
  double* entropy = nullptr;
  // Radial functional m = ½ log d − ½ log1p(R); d = radial_d[i] if given, else q_+ (nonzero σ).
  double* radial = nullptr;
  const int64_t* radial_d = nullptr;
  // #{σ > tol}.
  int64_t* rank = nullptr;
  double tol = 0.0;
};

// One fused pass per spectrum (validity, sortedness, scaled squares, compensated suffix sums);
// spectra not sorted descending are sorted in a per-worker workspace (ascending ones reversed).
// Returns the index of the first spectrum holding NaN, ±Inf or a negative value, or −1 if none
// (outputs of such spectra are left unwritten).
Status spectra_energy(const float* values, const int64_t* starts, const int64_t* lengths, int64_t n,
                       const EnergyRequest& req, int nthreads);
Status spectra_energy(const double* values, const int64_t* starts, const int64_t* lengths, int64_t n,
                       const EnergyRequest& req, int nthreads);

}  // namespace cpu
}  // namespace gsa
