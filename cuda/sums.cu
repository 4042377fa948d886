// CUDA kernel for the harmonic sums: one thread per (a, b, s) triple, calling the same
// __host__ __device__ math as the CPU kernel (cpp/include/gsa_fast/math/harmonic.hpp).
#include <cuda_runtime.h>

#include "gsa_fast/math/harmonic.hpp"
#include "sums.cuh"

namespace gsa {
namespace cuda {

__global__ void harmonic_range_kernel(const int64_t* a, const int64_t* b, const double* s,
                                      int64_t n, double* out_h, double* out_l, double* out_q) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    const math::Sums3 r = math::harmonic_range(a[i], b[i], s[i]);
    if (out_h) out_h[i] = r.h;
    if (out_l) out_l[i] = r.l;
    if (out_q) out_q[i] = r.q;
  }
}

int harmonic_range(const int64_t* a, const int64_t* b, const double* s, int64_t n, double* out_h,
                   double* out_l, double* out_q, uintptr_t stream) {
  if (n <= 0) return 0;
  const int threads = 128;
  const int64_t want = (n + threads - 1) / threads;
  const int blocks = (int)(want < 65535 ? want : 65535);
  harmonic_range_kernel<<<blocks, threads, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
      a, b, s, n, out_h, out_l, out_q);
  return (int)cudaGetLastError();
}

}  // namespace cuda
}  // namespace gsa
