// Bures–Wasserstein kernels on the GPU (spec §5.2): the checks, scalings and reductions of
// cpp/src/bures.cpp around the dense factorizations that cupy's cuSOLVER/cuBLAS do in between
// (python/gsa_fast/_gpu_bures.py). The per-pair arithmetic is math/bures.hpp, shared with the CPU.
#include <cuda_runtime.h>
#include <math.h>

#include "block_reduce.cuh"
#include "bures.cuh"
#include "gsa_fast/math/bures.hpp"

namespace gsa {
namespace cuda {
namespace {

constexpr int kThreads = 256;

__device__ double block_max(double v, double* red) { return cuda::block_max<kThreads>(v, red); }
__device__ double block_min(double v, double* red) { return cuda::block_min<kThreads>(v, red); }
__device__ double block_sum(double v, double* red) { return cuda::block_sum<kThreads>(v, red); }

template <class T>
__device__ double at(const char* p, int64_t byte_off) {
  return (double)*reinterpret_cast<const T*>(p + byte_off);
}

template <class T>
__global__ void load_kernel(const char* base, const int64_t* offsets, int64_t nmat, int64_t rows,
                            int64_t cols, int64_t rs, int64_t cs, bool symmetric, double sym_rtol,
                            double* W, double* out_sum, int* out_exp, int* code) {
  __shared__ double red[kThreads];
  const int tid = threadIdx.x;
  const int64_t size = rows * cols;
  for (int64_t m = blockIdx.x; m < nmat; m += gridDim.x) {
    const char* x = base + offsets[m];
    double* w = W + m * size;
    // Pass 1: float64 copy, finiteness, max|x|.
    int fin = 1;
    double amax = 0.0;
    for (int64_t t = tid; t < size; t += kThreads) {
      const int64_t i = t / cols, j = t - i * cols;
      const double v = at<T>(x, i * rs + j * cs);
      w[t] = v;
      fin &= (int)isfinite(v);
      amax = fmax(amax, fabs(v));
    }
    fin = __syncthreads_and(fin);
    amax = block_max(amax, red);
    if (!fin) {
      for (int64_t t = tid; t < size; t += kThreads) w[t] = 0.0;  // harmless for the solver
      if (tid == 0) {
        code[m] = 1;
        out_sum[m] = 0.0;
        out_exp[m] = 0;
      }
      __syncthreads();
      continue;
    }
    // Pass 2: exact power-of-two scaling (0 for ordinary input), then the route's own sweep.
    const int e = symmetric ? math::scale_exponent(amax, 0x1p-500, 0x1p500, true)
                            : math::scale_exponent(amax, 0x1p-250, 0x1p250, false);
    if (e != 0) {
      for (int64_t t = tid; t < size; t += kThreads) w[t] = ::ldexp(w[t], e);
      __syncthreads();
    }
    double sum = 0.0, asym = 0.0;
    if (symmetric) {
      // Each off-diagonal pair (i > j) is read and written by one thread: no races.
      for (int64_t t = tid; t < size; t += kThreads) {
        const int64_t i = t / cols, j = t - i * cols;
        if (i == j) sum += w[t];
        if (i <= j) continue;
        const double lo = w[t], up = w[j * cols + i];
        asym = fmax(asym, fabs(lo - up));
        w[t] = w[j * cols + i] = 0.5 * (lo + up);
      }
      asym = block_max(asym, red);
    } else {
      for (int64_t t = tid; t < size; t += kThreads) sum += w[t] * w[t];
    }
    sum = block_sum(sum, red);
    if (tid == 0) {
      code[m] = (symmetric && asym > sym_rtol * ::ldexp(amax, e)) ? 2 : 0;
      out_sum[m] = sum;
      out_exp[m] = symmetric ? e : 2 * e;
    }
    __syncthreads();
  }
}

__global__ void sqrt_eig_kernel(double* w, int64_t nmat, int64_t n, double psd_rtol, int* code) {
  __shared__ double red[kThreads];
  const int tid = threadIdx.x;
  for (int64_t m = blockIdx.x; m < nmat; m += gridDim.x) {
    if (code[m] != 0) continue;  // uniform across the block
    double* v = w + m * n;
    int fin = 1;
    double lo = INFINITY, hi = 0.0;
    for (int64_t k = tid; k < n; k += kThreads) {
      fin &= (int)isfinite(v[k]);
      lo = fmin(lo, v[k]);
      hi = fmax(hi, fabs(v[k]));
    }
    fin = __syncthreads_and(fin);
    lo = block_min(lo, red);
    hi = block_max(hi, red);
    // The CPU kernel's test on the ascending eigenvalues: w[0] < −psd_rtol·max(|w[0]|, |w[n−1]|)
    // (max|w| is the larger end; a solver returning them unsorted is covered by lo and hi).
    const int c = !fin ? 7 : (lo < -psd_rtol * hi ? 3 : 0);
    if (c == 0)
      for (int64_t k = tid; k < n; k += kThreads) v[k] = v[k] > 0.0 ? ::sqrt(v[k]) : 0.0;
    if (tid == 0 && c != 0) code[m] = c;
    __syncthreads();
  }
}

__global__ void pairs_kernel(const int64_t* pidx, const int64_t* qidx, int64_t npairs,
                             const int* code_p, const int* code_q, const double* tr_p,
                             const int* exp_p, const double* tr_q, const int* exp_q,
                             const double* sv, int64_t k, double* out_dist, double* out_fid,
                             int64_t* status) {
  for (int64_t b = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; b < npairs;
       b += (int64_t)gridDim.x * blockDim.x) {
    const int64_t ip = pidx[b], iq = qidx[b];
    const int cp = code_p[ip], cq = code_q[iq];
    const int c = cp == 7 || (cp == 0 && cq == 7) ? 7 : cp != 0 ? cp : cq != 0 ? 3 + cq : 0;
    if (c != 0) {
      atomicMin(reinterpret_cast<unsigned long long*>(status), (unsigned long long)(8 * b + c));
      if (out_dist) out_dist[b] = NAN;
      if (out_fid) out_fid[b] = NAN;
      continue;
    }
    double F = 0.0;
    if (sv)
      for (int64_t j = k - 1; j >= 0; --j) F += sv[b * k + j];  // small to large
    if (out_fid) out_fid[b] = math::unscaled_fidelity(F, exp_p[ip], exp_q[iq]);
    if (out_dist) out_dist[b] = math::scaled_distance(tr_p[ip], exp_p[ip], tr_q[iq], exp_q[iq], F);
  }
}

// One operand of route (c)/(d): finite, max|x|, min x and the order flags, block-wide.
struct VecInfo {
  int finite, not_desc, not_asc;
  double amax, mn;
};

template <class T>
__device__ VecInfo vec_info(const char* x, int64_t s, int64_t n, double* red) {
  int fin = 1, nd = 0, na = 0;
  double amax = 0.0, mn = 0.0;
  for (int64_t k = threadIdx.x; k < n; k += kThreads) {
    const double v = at<T>(x, k * s);
    fin &= (int)isfinite(v);
    amax = fmax(amax, fabs(v));
    mn = fmin(mn, v);
    if (k + 1 < n) {
      const double u = at<T>(x, (k + 1) * s);
      nd |= (v < u);
      na |= (v > u);
    }
  }
  VecInfo r;
  r.finite = __syncthreads_and(fin);
  r.not_desc = __syncthreads_or(nd);
  r.not_asc = __syncthreads_or(na);
  r.amax = block_max(amax, red);
  r.mn = block_min(mn, red);
  return r;
}

// Entry k (0 = largest when the vector is read backwards) clipped at 0.
template <class T>
__device__ double entry(const char* x, int64_t s, int64_t n, int64_t k, bool backwards) {
  const double v = at<T>(x, (backwards ? n - 1 - k : k) * s);
  return v > 0.0 ? v : 0.0;
}

template <class TA, class TB>
__global__ void diag_kernel(const char* a_base, const int64_t* a_off, int64_t sa,
                            const char* b_base, const int64_t* b_off, int64_t sb, int64_t npairs,
                            int64_t n, bool sort_desc, double neg_a, double neg_b, double* out,
                            int64_t* status) {
  __shared__ double red[kThreads];
  const int tid = threadIdx.x;
  for (int64_t p = blockIdx.x; p < npairs; p += gridDim.x) {
    const char* a = a_base + a_off[p];
    const char* b = b_base + b_off[p];
    const VecInfo ia = vec_info<TA>(a, sa, n, red);
    const VecInfo ib = vec_info<TB>(b, sb, n, red);
    // The CPU kernel's order of checks: a before b, NaN/Inf before a clearly negative entry.
    const int c = !ia.finite ? 1 : ia.mn < -neg_a * ia.amax ? 3
                : !ib.finite ? 4 : ib.mn < -neg_b * ib.amax ? 6 : 0;
    const bool unsorted = sort_desc && ((ia.not_desc && ia.not_asc) || (ib.not_desc && ib.not_asc));
    if (c != 0 || unsorted) {
      if (tid == 0) {
        if (c != 0)
          atomicMin(reinterpret_cast<unsigned long long*>(status), (unsigned long long)(8 * p + c));
        else
          status[1] = 1;  // any block may set it; all write 1
        out[p] = NAN;
      }
      continue;
    }
    const bool ra = sort_desc && ia.not_desc, rb = sort_desc && ib.not_desc;  // ascending: backwards
    double s = 0.0, nz = 0.0;  // nz: how many t are nonzero (a tiny t squares to 0)
    for (int64_t k = tid; k < n; k += kThreads) {
      const double t = math::sqrt_diff(entry<TA>(a, sa, n, k, ra), entry<TB>(b, sb, n, k, rb));
      s += t * t;
      nz += (t != 0.0) ? 1.0 : 0.0;
    }
    s = block_sum(s, red);
    nz = block_sum(nz, red);
    if (tid == 0) {
      if (math::plain_ssq_ok(s, nz != 0.0)) {
        out[p] = ::sqrt(s);
      } else {  // overflow or possible underflow: the scaled pass of math::bures_diag, serially
        math::ScaledSsq acc = math::ssq_init();
        for (int64_t k = 0; k < n; ++k)
          math::ssq_add(acc, math::sqrt_diff(entry<TA>(a, sa, n, k, ra), entry<TB>(b, sb, n, k, rb)));
        out[p] = math::ssq_norm(acc);
      }
    }
  }
}

int grid_for(int64_t n) { return (int)(n < 65535 ? n : 65535); }

template <class TA, class TB>
int launch_diag(const void* a_base, const int64_t* a_off, int64_t sa, const void* b_base,
                const int64_t* b_off, int64_t sb, int64_t npairs, int64_t n, bool sort_desc,
                double neg_a, double neg_b, double* out, int64_t* status, cudaStream_t st) {
  diag_kernel<TA, TB><<<grid_for(npairs), kThreads, 0, st>>>(
      static_cast<const char*>(a_base), a_off, sa, static_cast<const char*>(b_base), b_off, sb,
      npairs, n, sort_desc, neg_a, neg_b, out, status);
  return (int)cudaGetLastError();
}

}  // namespace

int bures_load(const void* base, bool f32, const int64_t* offsets, int64_t nmat, int64_t rows,
               int64_t cols, int64_t rs, int64_t cs, bool symmetric, double sym_rtol, double* W,
               double* out_sum, int* out_exp, int* code, uintptr_t stream) {
  if (nmat <= 0) return 0;
  const cudaStream_t st = reinterpret_cast<cudaStream_t>(stream);
  const char* b = static_cast<const char*>(base);
  if (f32)
    load_kernel<float><<<grid_for(nmat), kThreads, 0, st>>>(b, offsets, nmat, rows, cols, rs, cs,
                                                            symmetric, sym_rtol, W, out_sum,
                                                            out_exp, code);
  else
    load_kernel<double><<<grid_for(nmat), kThreads, 0, st>>>(b, offsets, nmat, rows, cols, rs, cs,
                                                             symmetric, sym_rtol, W, out_sum,
                                                             out_exp, code);
  return (int)cudaGetLastError();
}

int bures_sqrt_eig(double* w, int64_t nmat, int64_t n, double psd_rtol, int* code,
                   uintptr_t stream) {
  if (nmat <= 0 || n <= 0) return 0;
  sqrt_eig_kernel<<<grid_for(nmat), kThreads, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
      w, nmat, n, psd_rtol, code);
  return (int)cudaGetLastError();
}

int bures_pairs(const int64_t* pidx, const int64_t* qidx, int64_t npairs, const int* code_p,
                const int* code_q, const double* tr_p, const int* exp_p, const double* tr_q,
                const int* exp_q, const double* sv, int64_t k, double* out_dist,
                double* out_fid, int64_t* status, uintptr_t stream) {
  if (npairs <= 0) return 0;
  const int threads = 128;
  const int64_t want = (npairs + threads - 1) / threads;
  pairs_kernel<<<(int)(want < 65535 ? want : 65535), threads, 0,
                 reinterpret_cast<cudaStream_t>(stream)>>>(pidx, qidx, npairs, code_p, code_q,
                                                           tr_p, exp_p, tr_q, exp_q, sv, k,
                                                           out_dist, out_fid, status);
  return (int)cudaGetLastError();
}

int bures_diag(const void* a_base, bool a_f32, const int64_t* a_off, int64_t sa,
               const void* b_base, bool b_f32, const int64_t* b_off, int64_t sb, int64_t npairs,
               int64_t n, bool sort_desc, double neg_rtol_a, double neg_rtol_b, double* out,
               int64_t* status, uintptr_t stream) {
  if (npairs <= 0) return 0;
  const cudaStream_t st = reinterpret_cast<cudaStream_t>(stream);
  if (a_f32 && b_f32)
    return launch_diag<float, float>(a_base, a_off, sa, b_base, b_off, sb, npairs, n, sort_desc,
                                     neg_rtol_a, neg_rtol_b, out, status, st);
  if (a_f32)
    return launch_diag<float, double>(a_base, a_off, sa, b_base, b_off, sb, npairs, n, sort_desc,
                                      neg_rtol_a, neg_rtol_b, out, status, st);
  if (b_f32)
    return launch_diag<double, float>(a_base, a_off, sa, b_base, b_off, sb, npairs, n, sort_desc,
                                      neg_rtol_a, neg_rtol_b, out, status, st);
  return launch_diag<double, double>(a_base, a_off, sa, b_base, b_off, sb, npairs, n, sort_desc,
                                     neg_rtol_a, neg_rtol_b, out, status, st);
}

}  // namespace cuda
}  // namespace gsa
