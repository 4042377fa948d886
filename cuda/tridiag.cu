// Eigenvalues of stacks of symmetric tridiagonals on the GPU: the Sturm-count multisection of
// math/tridiag.hpp, the arithmetic the CPU executor (cpp/src/linalg/tridiag_bisect.cpp) runs.
//
// Work: each eigenvalue needs ≈ 53/log2(points + 1) steps, each `points` Sturm counts of n steps
// (a subtraction, a division, a compare): ≈ 60·n² recurrence steps per matrix for bisection, a
// serial chain of n steps per count. One thread per eigenvalue leaves 53 chains of n dependent
// divisions per thread (latency bound: n = 4096 → 2·10⁵ dependent steps); `points` lanes per
// eigenvalue shorten the chain by log2(points + 1) for `points`/log2(points + 1) times the
// arithmetic. All lanes of a block walk the same d, e² tiles in lock step (shared memory,
// broadcast reads), so the block loops until its last eigenvalue has converged.
#include <cuda_runtime.h>
#include <math.h>

#include "block_reduce.cuh"
#include "gsa_fast/math/tridiag.hpp"
#include "tridiag.cuh"

namespace gsa {
namespace cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kTile = 512;  // d and e² entries per shared-memory tile (8 KiB)
constexpr int kParams = 6;  // lo, hi, pivmin, abstol, exponent, trivial

// One block per problem: max |T_ij|, the scaled d and shifted squares e2 (e2[0] = 0), the widened
// Gershgorin bounds; the same values as cpu::tridiag_eigvalues' prepare() (min/max are exact in
// any order, ldexp is exact).
__global__ void tridiag_prep_kernel(const double* d, const double* e, int64_t count, int64_t n,
                                    double* work, double* params) {
  __shared__ double red[kThreads];
  const int tid = threadIdx.x;
  for (int64_t k = blockIdx.x; k < count; k += gridDim.x) {
    const double* dk = d + k * n;
    const double* ek = e + k * (n - 1);
    double amax = 0.0;
    for (int64_t j = tid; j < n; j += kThreads) amax = fmax(amax, fabs(dk[j]));
    for (int64_t j = tid; j + 1 < n; j += kThreads) amax = fmax(amax, fabs(ek[j]));
    amax = block_max<kThreads>(amax, red);
    double* P = params + kParams * k;
    if (n == 1 || amax == 0.0) {
      if (tid == 0) {
        P[0] = P[1] = P[2] = P[3] = P[4] = 0.0;
        P[5] = 1.0;
      }
      continue;  // block-uniform
    }
    const int ex = math::tridiag_scale_exponent(amax);
    double* sd = work + 2 * k * n;
    double* e2 = sd + n;
    double gl = INFINITY, gu = -INFINITY, emax2 = 0.0;
    for (int64_t j = tid; j < n; j += kThreads) {
      const math::TridiagRow row = math::tridiag_scaled_row(n, dk, ek, j, ex);
      sd[j] = row.sd;
      e2[j] = row.e2;
      emax2 = fmax(emax2, row.e2);
      gl = fmin(gl, row.lo);
      gu = fmax(gu, row.hi);
    }
    gl = block_min<kThreads>(gl, red);
    gu = block_max<kThreads>(gu, red);
    emax2 = block_max<kThreads>(emax2, red);
    if (tid == 0) {
      const math::TridiagBounds b = math::tridiag_bounds(gl, gu, emax2);
      P[0] = b.lo;
      P[1] = b.hi;
      P[2] = b.pivmin;
      P[3] = b.abstol;
      P[4] = (double)ex;
      P[5] = 0.0;
    }
  }
}

// K lanes per eigenvalue (K | 32): lane t of group g evaluates the count at multisect_point t;
// the group's ballot gives the first point whose count exceeds i, and every lane of the group
// narrows its own copy of [lo, hi] the same way (math::multisect_update).
template <int K>
__global__ void tridiag_bisect_kernel(const double* d, int64_t count, int64_t n, const double* work,
                                      const double* params, double* w) {
  __shared__ double sd[kTile];
  __shared__ double se[kTile];
  const int tid = threadIdx.x;
  const int t = tid % K;
  const int64_t i = (int64_t)blockIdx.x * (kThreads / K) + tid / K;
  const int lane = tid & 31;
  const int base = lane & ~(K - 1);
  for (int64_t k = blockIdx.y; k < count; k += gridDim.y) {
    const double* P = params + kParams * k;
    if (P[5] != 0.0) {  // n = 1 or T = 0: the diagonal itself (block-uniform)
      if (t == 0 && i < n) w[k * n + i] = d[k * n + i];
      continue;
    }
    math::TridiagBounds b;
    b.lo = P[0];
    b.hi = P[1];
    b.pivmin = P[2];
    b.abstol = P[3];
    const int ex = (int)P[4];
    const double* D = work + 2 * k * n;
    const double* E2 = D + n;
    double lo = b.lo, hi = b.hi;
    bool done = i >= n || math::bisect_converged(lo, hi, b.abstol, b.pivmin);
    for (int step = 0; step < math::kTriMaxSteps; ++step) {
      if (!__syncthreads_or(!done)) break;  // block-uniform
      const double x = math::multisect_point(lo, hi, t, K);
      double q = 1.0;
      int64_t c = 0;
      for (int64_t j0 = 0; j0 < n; j0 += kTile) {
        const int m = (int)(n - j0 < kTile ? n - j0 : kTile);
        for (int jj = tid; jj < m; jj += kThreads) {
          sd[jj] = D[j0 + jj];
          se[jj] = E2[j0 + jj];
        }
        __syncthreads();
        for (int jj = 0; jj < m; ++jj) {
          q = math::sturm_step(q, sd[jj], se[jj], x, b.pivmin);
          c += q <= 0.0;
        }
        __syncthreads();
      }
      const unsigned ball = __ballot_sync(0xffffffffu, c > i);
      const unsigned bits = K == 32 ? ball : (ball >> base) & ((1u << (K % 32)) - 1u);
      if (!done) done = math::multisect_update(&lo, &hi, math::multisect_first(bits, K), K, b.abstol, b.pivmin);
    }
    if (t == 0 && i < n) w[k * n + i] = ldexp(math::bisect_value(lo, hi), -ex);
    __syncthreads();
  }
}

template <int K>
void launch_bisect(const double* d, int64_t count, int64_t n, const double* work, const double* params,
                   double* w, cudaStream_t s) {
  const int64_t per = kThreads / K;
  const dim3 grid((unsigned)((n + per - 1) / per), (unsigned)(count < 65535 ? count : 65535));
  tridiag_bisect_kernel<K><<<grid, kThreads, 0, s>>>(d, count, n, work, params, w);
}

}  // namespace

int tridiag_eigvalues(const double* d, const double* e, int64_t count, int64_t n, int points,
                      double* work, double* params, double* w, uintptr_t stream) {
  if (count <= 0 || n <= 0) return 0;
  if (points != 1 && points != 2 && points != 4 && points != 8 && points != 16 && points != 32)
    return (int)cudaErrorInvalidValue;
  const cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
  const int grid = (int)(count < 65535 ? count : 65535);
  tridiag_prep_kernel<<<grid, kThreads, 0, s>>>(d, e, count, n, work, params);
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) return (int)err;
  switch (points) {
    case 1: launch_bisect<1>(d, count, n, work, params, w, s); break;
    case 2: launch_bisect<2>(d, count, n, work, params, w, s); break;
    case 4: launch_bisect<4>(d, count, n, work, params, w, s); break;
    case 8: launch_bisect<8>(d, count, n, work, params, w, s); break;
    case 16: launch_bisect<16>(d, count, n, work, params, w, s); break;
    default: launch_bisect<32>(d, count, n, work, params, w, s); break;
  }
  return (int)cudaGetLastError();
}

}  // namespace cuda
}  // namespace gsa
