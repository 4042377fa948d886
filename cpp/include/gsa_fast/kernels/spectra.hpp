// Batched singular spectra on the CPU (issue #3): mixed-precision Gram, values-only symmetric
// eigensolver, divide-and-conquer SVD and a randomized top-k range finder.
//
// Matrices are described, not copied: a MatrixRef is a row-major rows×cols block with leading
// dimension ld (elements) in one of four storage formats. `trans` marks a block that stores the
// transpose of the user's matrix (a Fortran-ordered view); singular values do not care, the Gram
// side choice of a square matrix does.
#pragma once

#include <cstdint>

#include "gsa_fast/status.hpp"

namespace gsa {
namespace cpu {

enum SpectraDType : int { kF64 = 0, kF32 = 1, kF16 = 2, kBF16 = 3 };
enum SpectraMethod : int { kMethodGram = 0, kMethodSvd = 1 };
// Eigensolver behind the Gram route (values only): one-stage dsyevd (dsytrd + dsterf), the
// two-stage reduction dsyevd_2stage (dsytrd_2stage + dsterf), or kEigBand: our worker-parallel
// dense → band reduction + dsytrd_sb2st + dsterf (linalg/band_eig.hpp), or kEigSytrd: dsytrd on
// one thread + dsterf's QL four matrices at a time (linalg/sterf_lanes.hpp). kEigAuto picks by
// size and by the workers a matrix gets (cpp/src/spectra/small.inl, tridiagonal_route).
enum EigDriver : int { kEigAuto = 0, kEigSyevd = 1, kEigSyevd2Stage = 2, kEigBand = 3, kEigSytrd = 4 };

struct MatrixRef {
  const void* data;
  int dtype;  // SpectraDType
  int64_t rows, cols, ld;
  bool trans;
};

// code: kStatusOk; kStatusNonFinite (index = first such matrix); kStatusLapack (index, info).
using SpectraStatus = Status;

// Where the workers go: one matrix per worker when there are at least two matrices per worker,
// else one matrix at a time with its Gram tiled over the workers. OpenBLAS is pinned to one
// thread throughout (its spinning threads slow a shared machine 2–12×).
struct ThreadPlan {
  int batch_workers;
  int matrix_threads;  // gsa_fast workers inside one matrix (tiled Gram); OpenBLAS stays at 1
};
ThreadPlan plan_threads(int64_t nmat, int nthreads);

// Gram of each matrix, float64 accumulation: q×q with q = min(m, n) of the user's matrix
// (AᵀA if m ≥ n else AAᵀ), written full (both triangles) row-major at out + out_offsets[i].
SpectraStatus gram_batch(const MatrixRef* mats, int64_t n, double* out, const int64_t* out_offsets,
                         int nthreads);

// All singular values, descending, at out + out_offsets[i] (min(m, n) values per matrix).
SpectraStatus svdvals_batch(const MatrixRef* mats, int64_t n, int method, int eig_driver, double* out,
                            const int64_t* out_offsets, int nthreads);

// Randomized top-k (Halko–Martinsson–Tropp, power iterations with re-orthonormalization):
// k_i = min(k, min(m, n)) values per matrix at out + out_offsets[i], the exact ‖A‖_F² in frob_sq[i]
// and an a-posteriori bound err[i] ≥ max_j |σ̂_j − σ_j| (≥ ‖A − QQᵀA‖_2 up to rounding).
SpectraStatus svdvals_topk_batch(const MatrixRef* mats, int64_t n, int64_t k, int64_t oversample,
                                 int power_iters, uint64_t seed, double* out,
                                 const int64_t* out_offsets, double* frob_sq, double* err,
                                 int nthreads);

}  // namespace cpu
}  // namespace gsa
