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

// orbit_probs: one block per (row, tile of kProbTile ranks); thread 0 finds the row's 1/H (the
// same harmonic sums as the CPU kernel), every thread then fills its ranks of the tile.
constexpr int64_t kProbTile = 8192;

__global__ void orbit_probs_kernel(const double* alpha, int64_t n, int64_t d, int64_t ntiles,
                                   double* out) {
  __shared__ double inv_h;
  for (int64_t t = blockIdx.x; t < n * ntiles; t += gridDim.x) {
    const int64_t i = t / ntiles, b0 = (t % ntiles) * kProbTile;
    const int64_t b1 = (b0 + kProbTile < d) ? b0 + kProbTile : d;
    const double a = alpha[i];
    if (threadIdx.x == 0) inv_h = math::orbit_probs_inv_h(a, d);
    __syncthreads();
    const double ih = inv_h;
    double* row = out + i * d;
    for (int64_t k = b0 + threadIdx.x; k < b1; k += blockDim.x) row[k] = math::orbit_prob(k, a, ih);
    __syncthreads();  // inv_h is rewritten for the next tile
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

int orbit_probs(const double* alpha, int64_t n, int64_t d, double* out, uintptr_t stream) {
  if (d < 1 || n < 0) return (int)cudaErrorInvalidValue;
  if (n == 0) return 0;
  const int threads = 256;
  const int64_t ntiles = (d + kProbTile - 1) / kProbTile;
  const int64_t want = n * ntiles;
  orbit_probs_kernel<<<(int)(want < 65535 ? want : 65535), threads, 0,
                       reinterpret_cast<cudaStream_t>(stream)>>>(alpha, n, d, ntiles, out);
  return (int)cudaGetLastError();
}

}  // namespace cuda
}  // namespace gsa
