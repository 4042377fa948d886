// CUDA launcher of the band → tridiagonal bulge chasing (math/bulge.hpp; device pointers in and out).
#pragma once

#include <cstdint>

namespace gsa {
namespace cuda {

// Largest half-bandwidth the kernel takes (its b×(b+1) window lives in shared memory).
constexpr int kBulgeMaxBand = 128;

// Band → tridiagonal on the device. W: the band in math/bulge.hpp's working storage (n columns of
// ldw ≥ 2b doubles, rows b+1.. zero), overwritten. progress: bulge_sweeps(n, b) ints, zero on entry
// (per-sweep count of finished steps; the kernel's only synchronization). d (n), e (n − 1)
// receive the tridiagonal matrix. A persistent cooperative kernel: each thread block runs whole
// sweeps (sweep s on block s mod grid), step j of sweep s waiting on a volatile load until sweep
// s − 1 has finished step j + 2 (or its last step), then a second kernel copies d and e out.
// Needs 0 ≤ b ≤ kBulgeMaxBand. Returns a cudaError_t as int.
int bulge_chase(double* W, int64_t n, int b, int64_t ldw, int* progress, double* d, double* e,
                uintptr_t stream);

}  // namespace cuda
}  // namespace gsa
