// ESD power-law fit on the GPU: one block per spectrum, the per-spectrum arithmetic of
// math/esd.hpp that the CPU kernel (cpp/src/esd.cpp) runs. The serial steps (range, suffix sums,
// the small-N rule) run on thread 0 in the CPU's order; log x, the candidates' α and the KS scans
// are spread over the block. The winner is the exact first minimum of D, as on the CPU; device
// log/exp may differ from the host's libm by an ulp, so D (and α) can differ by ~1e-15 and the
// winner only at such near-ties.
#include <cuda_runtime.h>
#include <float.h>
#include <math.h>

#include "block_reduce.cuh"
#include "esd.cuh"
#include "gsa_fast/math/esd.hpp"

namespace gsa {
namespace cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kSeeds = 16;

__device__ double block_max(double v, double* red) { return cuda::block_max<kThreads>(v, red); }

// D of candidate i (tail L[i .. N), exponent al) against bound: exact when ≤ bound, otherwise
// some value > bound (the scan stopped). α ≤ 1 gives 1; α = ∞ the scalar exact form.
__device__ double ks_candidate(const double* L, int64_t i, int64_t N, double al, double bound,
                               double* red, double* shared_d) {
  if (!(al > 1.0)) return 1.0;
  const int64_t n = N - i;
  if (isinf(al)) {
    if (threadIdx.x == 0) *shared_d = math::esd_ks_exact(L + i, n, al);
    __syncthreads();
    const double d = *shared_d;
    __syncthreads();
    return d;
  }
  const double c = 1.0 - al, Li = L[i], nd = (double)n;
  double m = 0.0;
  for (int64_t k0 = 0; k0 < n; k0 += kThreads) {
    const int64_t k = k0 + threadIdx.x;
    const double v = k < n ? math::esd_ks_term(math::esd_exp_nonpos(c * (L[i + k] - Li)), (double)k, nd)
                           : 0.0;
    m = fmax(m, block_max(v, red));
    if (m > bound) break;  // block-uniform
  }
  return m;
}

struct Shared {
  math::EsdRange r;
  int any;
  double d;
};

__global__ void esd_kernel(const double* sorted, const int64_t* starts, const int64_t* lengths,
                           int64_t nspec, int64_t clip_top, bool apply_thresh, double thresh,
                           const double* xmin_req, const double* xmax_req, double* work,
                           const int64_t* work_start, double* alpha, double* xmin, double* xmax,
                           double* Dout, double* sigma, int64_t* spikes, int64_t* num_fit,
                           int64_t* status) {
  __shared__ double red[kThreads];
  __shared__ Shared sh;
  const int tid = threadIdx.x;
  for (int64_t b = blockIdx.x; b < nspec; b += gridDim.x) {
    const double* all = sorted + starts[b];
    const int64_t len = lengths[b];
    if (tid == 0) {
      alpha[b] = xmin[b] = xmax[b] = Dout[b] = sigma[b] = NAN;
      spikes[b] = 0;
      num_fit[b] = 0;
    }
    // NaN/Inf first, then a negative eigenvalue beyond rounding (|λ| > 64·eps·max|λ|).
    int fin = 1;
    double vmax = 0.0, mn = 0.0;
    for (int64_t k = tid; k < len; k += kThreads) {
      const double y = all[k];
      fin &= (int)isfinite(y);
      vmax = fmax(vmax, fabs(y));
      mn = fmin(mn, y);
    }
    fin = __syncthreads_and(fin);
    vmax = block_max(vmax, red);
    mn = -block_max(-mn, red);
    if (!fin || mn < -64.0 * DBL_EPSILON * vmax) {
      if (tid == 0) status[b] = !fin ? math::kEsdNonFinite : math::kEsdNegative;
      continue;
    }
    if (tid == 0) {
      sh.r = math::esd_range(all, len, clip_top, apply_thresh, thresh, xmin_req ? xmin_req[b] : NAN,
                             xmax_req ? xmax_req[b] : NAN);
      if (sh.r.status != math::kEsdClipTooLarge) num_fit[b] = sh.r.N;
      if (sh.r.N >= 2) xmax[b] = all[sh.r.i_min + sh.r.N - 1];
      status[b] = sh.r.status;
    }
    __syncthreads();
    const math::EsdRange r = sh.r;
    __syncthreads();
    if (r.status != math::kEsdOk) continue;
    const int64_t N = r.N;
    const double* x = all + r.i_min;
    double* L = work + work_start[b];
    double* shi = L + N;
    double* slo = shi + N + 1;
    double* al = slo + N + 1;
    const bool ratio_ok = math::esd_log_ratio_ok(x, N);
    for (int64_t k = tid; k < N; k += kThreads) L[k] = math::esd_log_rel(x[k], x[0], ratio_ok);
    __syncthreads();
    if (tid == 0) math::esd_suffix_sums(L, N, shi, slo);
    __syncthreads();
    math::EsdWin w;
    if (N < math::kEsdSmallN) {
      if (tid == 0) {
        w = math::esd_fit_small(L, shi, slo, N);
        alpha[b] = w.alpha;
        Dout[b] = w.D;
        sigma[b] = w.sigma;
        xmin[b] = x[w.i];
        spikes[b] = r.nall - math::esd_lower_bound(all, r.nall, x[w.i]);
      }
      __syncthreads();
      continue;
    }
    // Standard rule: α of every candidate, then the exact first minimum of D.
    const int64_t nc = N - 1;
    int any = 0;
    for (int64_t i = tid; i < nc; i += kThreads) {
      al[i] = math::esd_alpha((double)(N - i), math::esd_log_excess(L, shi, slo, i, N));
      any |= (al[i] > 1.0);
    }
    any = __syncthreads_or(any);
    double bestD = 1.0;
    int64_t best = 0;  // every D is 1 when no α > 1: the first wins
    if (any) {
      bestD = INFINITY;
      best = nc;
      const int64_t nseed = nc < kSeeds ? nc : kSeeds;
      for (int64_t s = 0; s < nseed; ++s) {
        const int64_t i = (nc - 1) * s / (nseed - 1 > 1 ? nseed - 1 : 1);
        const double d = ks_candidate(L, i, N, al[i], INFINITY, red, &sh.d);
        if (d < bestD || (d == bestD && i < best)) {
          bestD = d;
          best = i;
        }
      }
      for (int64_t i = 0; i < nc; ++i) {
        const double d = ks_candidate(L, i, N, al[i], bestD, red, &sh.d);
        if (d > bestD) continue;  // pruned (or worse): cannot be the first minimum
        if (d < bestD || i < best) {
          bestD = d;
          best = i;
        }
      }
    }
    if (tid == 0) {
      const double a = math::esd_alpha((double)(N - best), math::esd_log_excess(L, shi, slo, best, N));
      alpha[b] = a;
      Dout[b] = bestD;
      sigma[b] = math::esd_sigma(a, (double)(N - best));
      xmin[b] = x[best];
      spikes[b] = r.nall - math::esd_lower_bound(all, r.nall, x[best]);
    }
    __syncthreads();
  }
}

}  // namespace

int esd_powerlaw_fit(const double* sorted, const int64_t* starts, const int64_t* lengths,
                     int64_t nspec, int64_t clip_top, bool apply_thresh, double thresh,
                     const double* xmin_req, const double* xmax_req, double* work,
                     const int64_t* work_start, double* alpha, double* xmin, double* xmax,
                     double* D, double* sigma, int64_t* num_pl_spikes, int64_t* num_fit,
                     int64_t* status, uintptr_t stream) {
  if (nspec <= 0) return 0;
  const int grid = (int)(nspec < 65535 ? nspec : 65535);
  esd_kernel<<<grid, kThreads, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
      sorted, starts, lengths, nspec, clip_top, apply_thresh, thresh, xmin_req, xmax_req, work,
      work_start, alpha, xmin, xmax, D, sigma, num_pl_spikes, num_fit, status);
  return (int)cudaGetLastError();
}

}  // namespace cuda
}  // namespace gsa
