// Exponent charts and residuals on the GPU (spec §6, §5.3, §8.3): one block per spectrum. The
// block validates the spectrum and finds q_+, σ_1, the smallest nonzero and whether it is
// nonincreasing (pass 0, block-parallel); the top chart and the radial residual then need only
// R = Σ_{k≥2} σ_k²/σ_1² (a block sum of compensated per-thread sums: ≤ ~log2(256)·u relative
// beyond the CPU's single compensated sum); the Bures chart evaluates F = (log f)' at its 257
// grid points in parallel (one thread per point) and refines on thread 0; the LS chart, the chart
// error and the tail residual run on thread 0. Every per-spectrum formula is a function of
// gsa_fast/math/charts.hpp that the CPU kernel calls too, reading the spectrum in place through
// the views Scaled/Shifted (the values of the CPU's sorted workspace; no copy on the device).
#include <cuda_runtime.h>
#include <math.h>

#include "block_reduce.cuh"
#include "charts.cuh"
#include "gsa_fast/kernels/charts.hpp"
#include "gsa_fast/math/charts.hpp"

namespace gsa {
namespace cuda {
namespace {

namespace mc = gsa::math::charts;

constexpr int kThreads = 256;  // with __launch_bounds__(kThreads, 2): ≤ 128 registers a thread
constexpr long long kNone = 0x7fffffffffffffffLL;

struct Scratch {
  double v[kThreads];
  long long i[kThreads];
  double F[mc::kBuresGrid];
};

struct Add {
  template <class V>
  __device__ V operator()(V a, V b) const { return a + b; }
};
struct Min {
  template <class V>
  __device__ V operator()(V a, V b) const { return a < b ? a : b; }
};

// Pass 0 over one spectrum: what the CPU kernel's scan() finds, plus the order of the whole
// spectrum (the device reads the nonzeros in place, so they must come first and descending).
struct SpectrumScan {
  long long bad;   // position of the first NaN/Inf/negative value, kNone when there is none
  long long q;     // number of nonzeros
  double vmax;     // the largest value
  long long imax;  // its first position
  double vmin;     // the smallest nonzero
  bool desc;       // nonincreasing over the whole spectrum
};

template <class T>
__device__ SpectrumScan scan_spectrum(const T* x, int64_t len, Scratch& sh) {
  const int tid = threadIdx.x;
  long long bad = kNone, nz = 0, im = kNone;
  double mx = 0.0, mn = INFINITY;
  int up = 0;
  for (int64_t k = tid; k < len; k += kThreads) {  // k increases: first positions per thread
    const double v = (double)x[k];
    if (!(v >= 0.0) || v == INFINITY) {  // NaN fails v >= 0
      if (k < bad) bad = k;
      continue;
    }
    if (v > 0.0) {
      ++nz;
      if (v > mx) {
        mx = v;
        im = k;
      }
      mn = fmin(mn, v);
    }
    if (k + 1 < len && v < (double)x[k + 1]) up = 1;
  }
  SpectrumScan r;
  r.bad = block_reduce<kThreads>(bad, sh.i, Min());
  r.q = block_reduce<kThreads>(nz, sh.i, Add());
  r.vmin = block_reduce<kThreads>(mn, sh.v, Min());
  r.desc = !__syncthreads_or(up);
  // the largest value, ties to the lowest position
  sh.v[tid] = mx;
  sh.i[tid] = im;
  __syncthreads();
  for (int off = kThreads / 2; off > 0; off >>= 1) {
    if (tid < off) {
      const double ov = sh.v[tid + off];
      const long long oi = sh.i[tid + off];
      if (ov > sh.v[tid] || (ov == sh.v[tid] && oi < sh.i[tid])) {
        sh.v[tid] = ov;
        sh.i[tid] = oi;
      }
    }
    __syncthreads();
  }
  r.vmax = sh.v[0];
  r.imax = sh.i[0];
  __syncthreads();
  return r;
}

// Pass 0 of spectrum i and its report: qplus[i] (q_+, or −1 − the position of its first bad
// value) and the status word. Returns d_i (the given width, else q_+), or −1 for a bad spectrum
// (block-uniform).
template <class T>
__device__ int64_t open_spectrum(const T* x, int64_t len, int64_t i, const int64_t* d,
                                 int64_t* qplus, int64_t* status, Scratch& sh, SpectrumScan* sc) {
  *sc = scan_spectrum(x, len, sh);
  const bool bad = sc->bad != kNone;
  if (threadIdx.x == 0) {
    qplus[i] = bad ? -1 - sc->bad : sc->q;
    if (bad) atomicMin(reinterpret_cast<unsigned long long*>(status), (unsigned long long)i);
  }
  return bad ? -1 : (d != nullptr ? d[i] : sc->q);
}

// Whether a chart that reads the spectrum in place may run; an unsorted one sets status[1] (the
// caller sorts a copy and runs again).
__device__ bool in_order(const SpectrumScan& sc, int64_t* status) {
  if (!sc.desc && threadIdx.x == 0) status[1] = 1;
  return sc.desc;
}

// R = Σ_{k≠imax} (x_k/vmax)² (the CPU's radial_ratio, a division per term: for subnormal vmax
// the reciprocal is Inf).
template <class T>
__device__ double radial_ratio(const T* x, int64_t len, const SpectrumScan& sc, Scratch& sh) {
  math::KahanSum acc;
  for (int64_t k = threadIdx.x; k < len; k += kThreads) {
    if (k == sc.imax) continue;
    const double r = (double)x[k] / sc.vmax;
    acc.add(r * r);
  }
  return block_reduce<kThreads>(acc.value(), sh.v, Add());
}

__global__ void log_table_kernel(double* u, int64_t nu) {
  for (int64_t k = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; k < nu;
       k += (int64_t)gridDim.x * blockDim.x) {
    u[k] = log((double)(k + 1));
  }
}

template <class T>
__global__ void __launch_bounds__(kThreads, 2)
    charts_fit_kernel(const T* values, const int64_t* starts, const int64_t* lengths,
                      int64_t nspec, const int64_t* d, int chart, double lo, double hi,
                      int64_t k0, int64_t k1, const double* u, double* alpha, double* intercept,
                      int64_t* qplus, int64_t* status) {
  __shared__ Scratch sh;
  const int tid = threadIdx.x;
  for (int64_t i = blockIdx.x; i < nspec; i += gridDim.x) {
    if (tid == 0) {
      alpha[i] = NAN;
      if (intercept != nullptr) intercept[i] = NAN;
    }
    const T* x = values + starts[i];
    const int64_t len = lengths[i];
    SpectrumScan sc;
    const int64_t di = open_spectrum(x, len, i, d, qplus, status, sh, &sc), q = sc.q;
    if (di < 0 || q < 1 || di < q) continue;
    if (chart == cpu::kChartTop) {
      const double R = radial_ratio(x, len, sc, sh);
      if (tid == 0) alpha[i] = mc::top_chart(R, di, lo, hi, u);
      continue;
    }
    if (!in_order(sc, status)) continue;
    if (chart == cpu::kChartBures) {
      const mc::Scaled<T> s{x, sc.vmax};
      if (di >= 2) {
        for (int j = tid; j < mc::kBuresGrid; j += kThreads)
          sh.F[j] = mc::bures_eval(s, u, q, di, mc::bures_grid_point(j, lo, hi)).F;
      }
      __syncthreads();
      if (tid == 0) alpha[i] = mc::bures_pick(sh.F, s, u, q, di, lo, hi);
      __syncthreads();  // F is rewritten for the next spectrum
    } else if (tid == 0) {
      const int e = mc::lsq_exponent(sc.vmax, sc.vmin);
      const mc::LsqFit f = mc::lsq_fit(mc::Shifted<T>{x, e}, u, q, di, k0, k1, lo, hi, sc.vmax, e);
      alpha[i] = f.alpha;
      if (intercept != nullptr) intercept[i] = f.intercept;
    }
  }
}

template <class T>
__global__ void __launch_bounds__(kThreads, 2)
    charts_residual_kernel(const T* values, const int64_t* starts, const int64_t* lengths,
                           int64_t nspec, const int64_t* d, const double* alpha, int kind,
                           const double* u, double* out, int64_t* qplus, int64_t* status) {
  __shared__ Scratch sh;
  const int tid = threadIdx.x;
  for (int64_t i = blockIdx.x; i < nspec; i += gridDim.x) {
    if (tid == 0) out[i] = NAN;
    SpectrumScan sc;
    const T* x = values + starts[i];
    const int64_t len = lengths[i];
    const int64_t di = open_spectrum(x, len, i, d, qplus, status, sh, &sc), q = sc.q;
    const double a = alpha[i];
    if (di < 0 || q < 1 || di < q || isnan(a)) continue;
    if (kind == cpu::kRadialResidual) {
      const double R = radial_ratio(x, len, sc, sh);
      if (tid == 0) out[i] = mc::radial_residual(R, di, a);
      continue;
    }
    if (!in_order(sc, status)) continue;
    if (tid == 0) {
      const mc::Scaled<T> s{x, sc.vmax};
      out[i] = kind == cpu::kChartError
                   ? mc::chart_error(s, u, q, di, a, mc::norm2(s, q))
                   : mc::tail_residual_with(s, mc::OrbitWeights{u, a}, q, di, a);
    }
  }
}

int grid_for(int64_t nspec) { return (int)(nspec < 16384 ? nspec : 16384); }

int fill_log_table(double* u, int64_t nu, cudaStream_t st) {
  if (nu < mc::kLogTableMin) return (int)cudaErrorInvalidValue;
  const int64_t want = (nu + kThreads - 1) / kThreads;
  log_table_kernel<<<(int)(want < 4096 ? want : 4096), kThreads, 0, st>>>(u, nu);
  return (int)cudaGetLastError();
}

}  // namespace

template <class T>
int charts_fit(const T* values, const int64_t* starts, const int64_t* lengths, int64_t nspec,
               const int64_t* d, int chart, double lo, double hi, int64_t k0, int64_t k1,
               double* u, int64_t nu, double* alpha, double* intercept, int64_t* qplus,
               int64_t* status, uintptr_t stream) {
  if (chart < cpu::kChartTop || chart > cpu::kChartLsq) return (int)cudaErrorInvalidValue;
  if (nspec <= 0) return 0;
  const cudaStream_t st = reinterpret_cast<cudaStream_t>(stream);
  const int err = fill_log_table(u, nu, st);
  if (err != 0) return err;
  charts_fit_kernel<T><<<grid_for(nspec), kThreads, 0, st>>>(
      values, starts, lengths, nspec, d, chart, lo, hi, k0, k1, u, alpha, intercept, qplus, status);
  return (int)cudaGetLastError();
}

template <class T>
int charts_residual(const T* values, const int64_t* starts, const int64_t* lengths,
                    int64_t nspec, const int64_t* d, const double* alpha, int kind, double* u,
                    int64_t nu, double* out, int64_t* qplus, int64_t* status, uintptr_t stream) {
  if (kind < cpu::kRadialResidual || kind > cpu::kTailResidual) return (int)cudaErrorInvalidValue;
  if (nspec <= 0) return 0;
  const cudaStream_t st = reinterpret_cast<cudaStream_t>(stream);
  const int err = fill_log_table(u, nu, st);
  if (err != 0) return err;
  charts_residual_kernel<T><<<grid_for(nspec), kThreads, 0, st>>>(
      values, starts, lengths, nspec, d, alpha, kind, u, out, qplus, status);
  return (int)cudaGetLastError();
}

int64_t charts_log_table_min() { return mc::kLogTableMin; }

template int charts_fit<float>(const float*, const int64_t*, const int64_t*, int64_t,
                               const int64_t*, int, double, double, int64_t, int64_t, double*,
                               int64_t, double*, double*, int64_t*, int64_t*, uintptr_t);
template int charts_fit<double>(const double*, const int64_t*, const int64_t*, int64_t,
                                const int64_t*, int, double, double, int64_t, int64_t, double*,
                                int64_t, double*, double*, int64_t*, int64_t*, uintptr_t);
template int charts_residual<float>(const float*, const int64_t*, const int64_t*, int64_t,
                                    const int64_t*, const double*, int, double*, int64_t, double*,
                                    int64_t*, int64_t*, uintptr_t);
template int charts_residual<double>(const double*, const int64_t*, const int64_t*, int64_t,
                                     const int64_t*, const double*, int, double*, int64_t,
                                     double*, int64_t*, int64_t*, uintptr_t);

}  // namespace cuda
}  // namespace gsa
