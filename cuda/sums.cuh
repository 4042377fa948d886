// CUDA launchers for the harmonic sums (device pointers in, device pointers out).
#pragma once

#include <cstdint>

namespace gsa {
namespace cuda {

// Same contract as gsa::cpu::harmonic_range; all pointers are device pointers, null outputs are
// skipped. Returns a cudaError_t as int (0 on success).
int harmonic_range(const int64_t* a, const int64_t* b, const double* s, int64_t n, double* out_h,
                   double* out_l, double* out_q, uintptr_t stream);

}  // namespace cuda
}  // namespace gsa
