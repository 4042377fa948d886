// CPU executor of the bulge-chasing band → tridiagonal reduction of math/bulge.hpp (the same
// steps the CUDA kernel cuda/bulge.cu runs). For tests and as the host twin of the device route;
// the production CPU route stays LAPACK's dsb2st kernels (linalg/band_eig.hpp).
#pragma once

#include <cstdint>

namespace gsa {
namespace cpu {

enum class BulgeOrder : int {
  kSerial = 0,     // sweep by sweep, steps in order (the reference order)
  kWavefront = 1,  // wavefront by wavefront, the sweeps of a wavefront on `threads` workers
                   // (one worker: in descending sweep order, which exposes a schedule that is too
                   // tight — any data shared within a wavefront would change the bits)
  kPersistent = 2,  // the CUDA kernel's protocol: `threads` workers, sweep s on worker s mod
                    // threads, step j once sweep s − 1 has finished min(j + shift, its steps)
};

// Band → tridiagonal. W: the band in the working storage of math/bulge.hpp (entry (r, c) at
// W[(r − c) + c·ldw], ldw ≥ 2b, rows b+1..ldw−1 zero), overwritten. d (n) and e (n − 1, may be
// null when n ≤ 1) receive the tridiagonal matrix. shift ≥ 2: the wavefront spacing
// (math::kBulgeShift; smaller values are for tests that show the schedule matters). team > 1
// (serial order only): every step is run by `team` threads with a barrier, as a thread block runs
// it on the device. Returns 0, or −1 for a bad argument.
int bulge_chase(int64_t n, int b, double* W, int64_t ldw, double* d, double* e, BulgeOrder order,
                int threads, int shift, int team = 1);

}  // namespace cpu
}  // namespace gsa
