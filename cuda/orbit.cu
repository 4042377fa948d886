// CUDA kernels for the orbit functions: one thread per parameter pair (or triple), calling the
// same __host__ __device__ math as the CPU kernel (cpp/src/orbit.cpp, math/orbit.hpp).
#include <cuda_runtime.h>

#include "gsa_fast/math/orbit.hpp"
#include "orbit.cuh"

namespace gsa {
namespace cuda {
namespace {

__global__ void orbit_unary_kernel(int op, const double* alpha, const int64_t* d, int64_t n,
                                   double* out) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    out[i] = math::orbit_unary_op(op, alpha[i], d[i]);
  }
}

__global__ void orbit_binary_kernel(int op, const double* a, const double* b, const int64_t* d,
                                    int64_t n, double* out) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    out[i] = math::orbit_binary_op(op, a[i], b[i], d[i]);
  }
}

// Grid of up to 65535 blocks of `threads`, grid-stride beyond.
int blocks_for(int64_t n, int threads) {
  const int64_t want = (n + threads - 1) / threads;
  return (int)(want < 65535 ? want : 65535);
}

}  // namespace

int orbit_unary(int op, const double* alpha, const int64_t* d, int64_t n, double* out,
                uintptr_t stream) {
  if (op < math::kLogPartition || op > math::kEntropy) return (int)cudaErrorInvalidValue;
  if (n <= 0) return 0;
  const int threads = 128;
  orbit_unary_kernel<<<blocks_for(n, threads), threads, 0,
                       reinterpret_cast<cudaStream_t>(stream)>>>(op, alpha, d, n, out);
  return (int)cudaGetLastError();
}

int orbit_binary(int op, const double* a, const double* b, const int64_t* d, int64_t n,
                 double* out, uintptr_t stream) {
  if (op < math::kKL || op > math::kBuresLength) return (int)cudaErrorInvalidValue;
  if (n <= 0) return 0;
  const int threads = 128;
  orbit_binary_kernel<<<blocks_for(n, threads), threads, 0,
                        reinterpret_cast<cudaStream_t>(stream)>>>(op, a, b, d, n, out);
  return (int)cudaGetLastError();
}

}  // namespace cuda
}  // namespace gsa
