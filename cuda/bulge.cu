// Band → tridiagonal bulge chasing on the GPU: the steps and schedule of math/bulge.hpp (the CPU
// executor cpp/src/linalg/bulge.cpp runs the same functions; its tests cover this arithmetic).
//
// One thread block per active sweep, persistent: the grid is what the device holds at once
// (cooperative launch, so every block is resident and the spin-waits cannot deadlock), capped at
// the number of sweeps; block p runs sweeps p, p + grid, … in order. Step j of sweep s waits until
// sweep s − 1 has finished step j + 2 (progress[s − 1] ≥ min(j + 3, steps(s − 1))): thread 0 spins
// on a volatile load, then __threadfence. The step's window (≤ b × (b + 1) doubles) is read from
// global memory with __ldcg (L2, never a stale L1 line written by another SM) into shared memory,
// transformed there by the block (math::bulge_step with the block as its team), and written back;
// every thread fences its stores before thread 0 publishes progress[s] = j + 1. The sweep's
// reflector (v, τ) stays in shared memory: the same block applies it in the next two steps.
// Why persistent rather than one launch per wavefront: see docs/gpu.md (≈ 3n wavefronts, each a
// launch of a few µs, against steps of about the same length).
#include <cuda_runtime.h>

#include "bulge.cuh"
#include "gsa_fast/math/bulge.hpp"

namespace gsa {
namespace cuda {
namespace {

constexpr int kThreads = 128;

struct BlockTeam {
  __host__ __device__ int rank() const {
#ifdef __CUDA_ARCH__
    return (int)threadIdx.x;
#else
    return 0;
#endif
  }
  __host__ __device__ int size() const {
#ifdef __CUDA_ARCH__
    return (int)blockDim.x;
#else
    return 1;
#endif
  }
  __host__ __device__ void sync() const {
#ifdef __CUDA_ARCH__
    __syncthreads();
#endif
  }
};

// Shared memory: the window (ldx = b + 1: odd, so column-per-thread loops spread over the banks),
// then v (b), y (b), τ and two scalars.
__host__ __device__ inline size_t smem_doubles(int b) {
  return (size_t)(b + 1) * (b + 1) + 2 * (size_t)b + 3;  // window: ≤ b rows × (b + 1) columns, ld b + 1
}

__global__ void bulge_kernel(double* W, int n, int b, int ldw, int* progress) {
  extern __shared__ double sm[];
  const int ldx = b + 1;
  double* X = sm;
  double* v = X + (size_t)ldx * (b + 1);
  double* y = v + b;
  double* tau = y + b;
  double* scal = tau + 1;
  const BlockTeam tm;
  const int tid = threadIdx.x;
  const int S = math::bulge_sweeps(n, b);
  for (int s = blockIdx.x; s < S; s += gridDim.x) {
    const int steps = math::bulge_steps(n, b, s);
    const int prev_steps = s > 0 ? math::bulge_steps(n, b, s - 1) : 0;
    for (int j = 0; j < steps; ++j) {
      if (s > 0) {
        if (tid == 0) {
          const int need = j + 3 < prev_steps ? j + 3 : prev_steps;
          const volatile int* p = progress + (s - 1);
          while (*p < need) __nanosleep(64);
          __threadfence();
        }
        __syncthreads();
      }
      const math::BulgeTask t = math::bulge_task(n, b, s, j);
      double* G = math::bulge_window(W, ldw, t);
      const int gld = ldw - 1, cells = t.rows * t.cols;
      for (int i = tid; i < cells; i += blockDim.x) {
        const int a = i % t.rows, c = i / t.rows;
        if (math::bulge_window_entry(t, a, c)) X[a + c * ldx] = __ldcg(G + a + (size_t)c * gld);
      }
      __syncthreads();
      math::bulge_step(tm, t, X, ldx, v, tau, y, scal);
      for (int i = tid; i < cells; i += blockDim.x) {
        const int a = i % t.rows, c = i / t.rows;
        if (math::bulge_window_entry(t, a, c)) G[a + (size_t)c * gld] = X[a + c * ldx];
      }
      __threadfence();
      __syncthreads();
      if (tid == 0) atomicExch(progress + s, j + 1);
    }
  }
}

__global__ void tridiagonal_kernel(const double* W, int n, int b, int ldw, double* d, double* e) {
  // int64 index: the launcher takes n up to 2^31 − 1, where i + stride would overflow an int
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    d[i] = W[(size_t)i * ldw];
    if (i + 1 < n) e[i] = b >= 1 ? W[(size_t)i * ldw + 1] : 0.0;
  }
}

}  // namespace

int bulge_chase(double* W, int64_t n64, int b, int64_t ldw64, int* progress, double* d, double* e,
                uintptr_t stream) {
  if (n64 <= 0) return 0;
  if (n64 >= (int64_t(1) << 31) || ldw64 >= (int64_t(1) << 31) || b < 0 || b > kBulgeMaxBand)
    return (int)cudaErrorInvalidValue;
  const int n = (int)n64, ldw = (int)ldw64;
  const int bb = b < n - 1 ? b : n - 1;  // rows beyond the matrix hold nothing
  if (ldw < 1 || ldw < 2 * bb) return (int)cudaErrorInvalidValue;
  cudaStream_t st = reinterpret_cast<cudaStream_t>(stream);
  const int S = math::bulge_sweeps(n, bb);
  if (S > 0) {
    const size_t smem = smem_doubles(bb) * sizeof(double);
    cudaError_t err = cudaFuncSetAttribute(bulge_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (err != cudaSuccess) return (int)err;
    int dev = 0, sms = 0, coop = 0, per_sm = 0;
    if ((err = cudaGetDevice(&dev)) != cudaSuccess) return (int)err;
    if ((err = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev)) != cudaSuccess) return (int)err;
    if ((err = cudaDeviceGetAttribute(&coop, cudaDevAttrCooperativeLaunch, dev)) != cudaSuccess) return (int)err;
    if (!coop) return (int)cudaErrorNotSupported;
    if ((err = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, bulge_kernel, kThreads, smem)) != cudaSuccess)
      return (int)err;
    if (per_sm < 1) return (int)cudaErrorInvalidConfiguration;
    // no more blocks than sweeps in flight at once (sweep s runs in wavefronts [3s, 3s + steps(s)),
    // so ⌈steps(0)/3⌉ + 1 of them; idle blocks would only poll), nor than the device holds
    int64_t grid = (int64_t)sms * per_sm;
    const int64_t active = (math::bulge_steps(n, bb, 0) + math::kBulgeShift - 1) / math::kBulgeShift + 1;
    if (grid > active) grid = active;
    if (grid > S) grid = S;
    int nn = n, bv = bb, lv = ldw;
    void* args[] = {&W, &nn, &bv, &lv, &progress};
    err = cudaLaunchCooperativeKernel((const void*)bulge_kernel, dim3((unsigned)grid), dim3(kThreads), args, smem, st);
    if (err != cudaSuccess) return (int)err;
  }
  const int blocks = (int)((n + 255) / 256 < 4096 ? (n + 255) / 256 : 4096);
  tridiagonal_kernel<<<blocks, 256, 0, st>>>(W, n, bb, ldw, d, e);
  return (int)cudaGetLastError();
}

}  // namespace cuda
}  // namespace gsa
