// CUDA kernels for the orbit tails family: one thread per parameter tuple (per (ε, d, r) for the
// plateau thresholds), calling the same __host__ __device__ math as the CPU kernel
// (cpp/src/tails.cpp, math/tails.hpp).
#include <cuda_runtime.h>

#include "gsa_fast/math/tails.hpp"
#include "tails.cuh"

namespace gsa {
namespace cuda {
namespace {

#define GSA_GRID_STRIDE(i, n)                                                  \
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n); \
       i += (int64_t)gridDim.x * blockDim.x)

__global__ void orbit_tail_kernel(const double* alpha, const int64_t* r, const int64_t* d,
                                  int64_t n, double* out) {
  GSA_GRID_STRIDE(i, n) { out[i] = math::orbit_tail(alpha[i], r[i], d[i]); }
}

__global__ void truncation_rank_kernel(const double* alpha, const double* eps, const int64_t* d,
                                       int64_t n, int64_t* out) {
  GSA_GRID_STRIDE(i, n) { out[i] = math::orbit_truncation_rank(alpha[i], eps[i], d[i]); }
}

__global__ void tail_margin_kernel(const double* alpha, const double* eps, const int64_t* d,
                                   int64_t n, double* out) {
  GSA_GRID_STRIDE(i, n) { out[i] = math::tail_margin(alpha[i], eps[i], d[i]); }
}

__global__ void plateau_kernel(const double* eps, const int64_t* d, int64_t n, int64_t rmax,
                               double* out) {
  GSA_GRID_STRIDE(t, n * rmax) {
    const int64_t i = t / rmax, r = t % rmax + 1;
    out[t] = math::plateau_threshold(eps[i], d[i], r);
  }
}

#undef GSA_GRID_STRIDE

// Grid of up to 65535 blocks of `threads`, grid-stride beyond.
int blocks_for(int64_t n, int threads) {
  const int64_t want = (n + threads - 1) / threads;
  return (int)(want < 65535 ? want : 65535);
}

cudaStream_t as_stream(uintptr_t s) { return reinterpret_cast<cudaStream_t>(s); }

constexpr int kThreads = 128;

}  // namespace

int orbit_tail(const double* alpha, const int64_t* r, const int64_t* d, int64_t n, double* out,
               uintptr_t stream) {
  if (n <= 0) return 0;
  orbit_tail_kernel<<<blocks_for(n, kThreads), kThreads, 0, as_stream(stream)>>>(alpha, r, d, n,
                                                                                 out);
  return (int)cudaGetLastError();
}

int orbit_truncation_rank(const double* alpha, const double* eps, const int64_t* d, int64_t n,
                          int64_t* out, uintptr_t stream) {
  if (n <= 0) return 0;
  truncation_rank_kernel<<<blocks_for(n, kThreads), kThreads, 0, as_stream(stream)>>>(
      alpha, eps, d, n, out);
  return (int)cudaGetLastError();
}

int tail_margin(const double* alpha, const double* eps, const int64_t* d, int64_t n, double* out,
                uintptr_t stream) {
  if (n <= 0) return 0;
  tail_margin_kernel<<<blocks_for(n, kThreads), kThreads, 0, as_stream(stream)>>>(alpha, eps, d,
                                                                                  n, out);
  return (int)cudaGetLastError();
}

int plateau_thresholds(const double* eps, const int64_t* d, int64_t n, int64_t rmax, double* out,
                       uintptr_t stream) {
  if (n <= 0 || rmax <= 0) return 0;
  plateau_kernel<<<blocks_for(n * rmax, kThreads), kThreads, 0, as_stream(stream)>>>(eps, d, n,
                                                                                     rmax, out);
  return (int)cudaGetLastError();
}

}  // namespace cuda
}  // namespace gsa
