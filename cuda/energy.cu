// Truncation ranks on the GPU: one block per spectrum, a tiled reverse (suffix) scan of σ² in
// float64 (spec §8.1: tails as suffix sums, never 1 − prefix), and one count per level ε:
// r_ε = 1 + #{r ∈ [1, q−1] : S(r)/S(0) > ε}, S(j) = Σ_{k≥j} σ_k² (0-based, descending order);
// ε = 0 gives 1 + #{r ∈ [1, q−1] : σ_r > 0}, the rank, as on the CPU (a nonzero σ whose scaled
// square underflows still counts). All terms are nonnegative, so each suffix sum carries a
// relative error ≤ ~log2(256)·q/256·u; results can differ from the CPU kernel only at ties
// |T(r) − ε| ≲ 1e-13·T(r).
#include <cuda_runtime.h>
#include <math.h>

#include "gsa_fast/math/energy.hpp"
#include "block_reduce.cuh"
#include "energy.cuh"

namespace gsa {
namespace cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kMaxEps = 32;

// Pass 0 of the ordered kernels (every thread of the block calls it): *bad = some σ is NaN, Inf or
// negative; *not_desc / *not_asc = some neighbour pair breaks that order. Returns max σ.
template <class T>
__device__ double check_spectrum(const T* s, int64_t n, double* red, int* bad, int* not_desc,
                                 int* not_asc) {
  const int tid = threadIdx.x;
  int b = 0, nd = 0, na = 0;
  double mx = 0.0;
  for (int64_t k = tid; k < n; k += kThreads) {
    const double x = (double)s[k];
    if (!math::valid_sigma(x, 1.7976931348623157e308)) b = 1;
    mx = fmax(mx, x);
    if (k + 1 < n) {
      const double y = (double)s[k + 1];
      nd |= (x < y);
      na |= (x > y);
    }
  }
  *bad = __syncthreads_or(b);
  *not_desc = __syncthreads_or(nd);
  *not_asc = __syncthreads_or(na);
  return cuda::block_max<kThreads>(mx, red);
}

// Inclusive suffix scan (Hillis–Steele) of one value per thread over the block's tile, by sum or
// by max (all values ≥ 0, so 0 pads both); returns this thread's result. tile[0] holds the whole
// tile's result until the caller's next barrier.
template <bool kMax>
__device__ double tile_suffix_scan(double v, double* tile) {
  const int tid = threadIdx.x;
  tile[tid] = v;
  __syncthreads();
  for (int off = 1; off < kThreads; off <<= 1) {
    const double other = (tid + off < kThreads) ? tile[tid + off] : 0.0;
    __syncthreads();
    tile[tid] = kMax ? fmax(tile[tid], other) : tile[tid] + other;
    __syncthreads();
  }
  return tile[tid];
}

// (σ·scale)² of the j-th largest value (0-based) of a sorted spectrum; 0 past its end.
template <class T>
__device__ double scaled_square(const T* s, int64_t n, int64_t j, bool ascending, double scale) {
  if (j >= n) return 0.0;
  const double x = (double)s[ascending ? (n - 1 - j) : j] * scale;
  return x * x;
}

template <class T>
__global__ void truncation_rank_kernel(const T* values, const int64_t* starts,
                                       const int64_t* lengths, int64_t nspec, const double* eps,
                                       int neps, int64_t* out, int64_t* status) {
  __shared__ double tile[kThreads];
  __shared__ double red[kThreads];
  __shared__ int counts[kMaxEps];
  const int tid = threadIdx.x;
  for (int64_t i = blockIdx.x; i < nspec; i += gridDim.x) {
    const T* s = values + starts[i];
    const int64_t n = lengths[i];
    // Pass 0: validity, order, and the largest value.
    int bad, not_desc, not_asc;
    const double mx = check_spectrum(s, n, red, &bad, &not_desc, &not_asc);
    if (bad || (not_desc && not_asc) || mx == 0.0) {
      if (tid == 0) {
        if (bad) atomicMin(reinterpret_cast<unsigned long long*>(status), (unsigned long long)i);
        else if (not_desc && not_asc) status[1] = 1;  // any block may set it; all write 1
      }
      for (int e = tid; e < neps; e += kThreads) out[i * neps + e] = 0;
      continue;
    }
    const bool ascending = not_desc;  // sorted, but not descending
    const double scale = math::pow2_scale(mx);
    if (tid < kMaxEps) counts[tid] = 0;
    int cnt[kMaxEps];
    for (int e = 0; e < kMaxEps; ++e) cnt[e] = 0;
    double total = 0.0;
    // Pass 1 computes the total; pass 2 repeats the identical scan and counts against it.
    for (int pass = 0; pass < 2; ++pass) {
      double carry = 0.0;
      const int64_t ntiles = (n + kThreads - 1) / kThreads;
      for (int64_t t = ntiles - 1; t >= 0; --t) {
        const int64_t j = t * kThreads + tid;  // logical index, 0 = largest σ
        const double S =
            tile_suffix_scan<false>(scaled_square(s, n, j, ascending, scale), tile) + carry;
        if (pass == 1 && j >= 1 && j < n) {
          // T(j) as the CPU kernel and the reference form it (quotient, then compare); ε = 0
          // counts σ_j > 0 itself: the rank, also where (σ_j·scale)² underflows to 0.
          const double tail = S / total;
          const bool nonzero = (double)s[ascending ? (n - 1 - j) : j] > 0.0;
          for (int e = 0; e < neps; ++e) cnt[e] += (eps[e] == 0.0) ? nonzero : (tail > eps[e]);
        }
        carry += tile[0];
        __syncthreads();
      }
      total = carry;
    }
    for (int e = 0; e < neps; ++e)
      if (cnt[e]) atomicAdd(&counts[e], cnt[e]);
    __syncthreads();
    for (int e = tid; e < neps; e += kThreads) out[i * neps + e] = 1 + (int64_t)counts[e];
    __syncthreads();
  }
}

// Tails T(r) = S(r)/S(0), r = 0..n, and energies ν_k = σ_k²/S(0) (descending order) of each
// sorted spectrum: the tiled reverse scan of truncation_rank with a compensated carry, then a
// suffix max so that S (hence T) is nonincreasing exactly, as on the CPU. The tails buffer holds
// S itself until the total S(0) is known, then each thread divides the entries it wrote.
template <class T>
__global__ void tails_energy_kernel(const T* values, const int64_t* starts,
                                    const int64_t* lengths, int64_t nspec, double* out_tails,
                                    const int64_t* tails_start, double* out_energy,
                                    const int64_t* energy_start, int64_t* status) {
  __shared__ double tile[kThreads];
  __shared__ double red[kThreads];
  const int tid = threadIdx.x;
  for (int64_t i = blockIdx.x; i < nspec; i += gridDim.x) {
    const T* s = values + starts[i];
    const int64_t n = lengths[i];
    double* tl = out_tails != nullptr ? out_tails + tails_start[i] : nullptr;
    double* en = out_energy != nullptr ? out_energy + energy_start[i] : nullptr;
    int bad, not_desc, not_asc;
    const double mx = check_spectrum(s, n, red, &bad, &not_desc, &not_asc);
    if (bad || (not_desc && not_asc)) {
      if (tid == 0) {
        if (bad) atomicMin(reinterpret_cast<unsigned long long*>(status), (unsigned long long)i);
        else status[1] = 1;  // any block may set it; all write 1
      }
      continue;
    }
    if (mx == 0.0) {  // empty or all-zero spectrum: ν ≡ 0, T ≡ 0
      for (int64_t k = tid; k <= n; k += kThreads) {
        if (tl != nullptr) tl[k] = 0.0;
        if (en != nullptr && k < n) en[k] = 0.0;
      }
      continue;
    }
    const bool ascending = not_desc;  // sorted, but not descending
    const double scale = math::pow2_scale(mx);
    math::KahanSum carry;  // identical in every thread
    double cmax = 0.0;     // largest S at the indices already done (the later tiles)
    const int64_t ntiles = (n + kThreads - 1) / kThreads;
    for (int64_t t = ntiles - 1; t >= 0; --t) {
      const int64_t j = t * kThreads + tid;  // logical index, 0 = largest σ
      const double S =  // S(j), then made nonincreasing over this and the later tiles
          tile_suffix_scan<false>(scaled_square(s, n, j, ascending, scale), tile) + carry.value();
      const double Smax = tile_suffix_scan<true>(S, red);
      if (tl != nullptr && j < n) tl[j] = fmax(Smax, cmax);
      cmax = fmax(cmax, red[0]);
      carry.add(tile[0]);
      __syncthreads();
    }
    const double tot = cmax;  // S(0) > 0 (σ_1 > 0)
    for (int64_t k = tid; k <= n; k += kThreads) {  // the same k as the scan's j: own entries
      if (tl != nullptr) tl[k] = (k == 0) ? 1.0 : (k == n ? 0.0 : tl[k] / tot);
      if (en != nullptr && k < n)  // ν_1 ≤ 1 also after rounding
        en[k] = fmin(1.0, scaled_square(s, n, k, ascending, scale) / tot);
    }
  }
}

template <class T>
int launch_tails(const T* values, const int64_t* starts, const int64_t* lengths, int64_t nspec,
                 double* out_tails, const int64_t* tails_start, double* out_energy,
                 const int64_t* energy_start, int64_t* status, uintptr_t stream) {
  if (nspec <= 0) return 0;
  const int blocks = (int)(nspec < 16384 ? nspec : 16384);
  tails_energy_kernel<T><<<blocks, kThreads, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
      values, starts, lengths, nspec, out_tails, tails_start, out_energy, energy_start, status);
  return (int)cudaGetLastError();
}

template <class T>
int launch(const T* values, const int64_t* starts, const int64_t* lengths, int64_t nspec,
           const double* eps, int neps, int64_t* out, int64_t* status, uintptr_t stream) {
  if (nspec <= 0) return 0;
  if (neps > kMaxEps || neps < 0) return (int)cudaErrorInvalidValue;
  const int blocks = (int)(nspec < 16384 ? nspec : 16384);
  truncation_rank_kernel<T><<<blocks, kThreads, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
      values, starts, lengths, nspec, eps, neps, out, status);
  return (int)cudaGetLastError();
}

// Sum of one value per thread over the block (every thread calls it and gets the sum). All terms
// it is used for are nonnegative, so the tree adds a relative error of at most log2(256)·u.
template <class V>
__device__ V block_sum(V v, V* red) {
  return cuda::block_sum<kThreads>(v, red);
}

// rank_count, spectral_entropy and radial_functional of one spectrum per block, in any order
// (the CPU kernel's unordered_outputs, cpp/src/energy.cpp): pass 0 validates, counts σ > 0 and
// σ > tol and finds σ_1 (first index of the largest value); pass 1 sums the other squares of the
// exactly scaled σ; pass 2 sums the entropy terms. Per-thread sums are compensated.
template <class T>
__global__ void spectrum_stats_kernel(const T* values, const int64_t* starts,
                                      const int64_t* lengths, int64_t nspec, double tol,
                                      const int64_t* radial_d, int64_t* out_rank,
                                      double* out_entropy, double* out_radial, int64_t* status) {
  __shared__ double redv[kThreads];
  __shared__ long long redi[kThreads];
  const int tid = threadIdx.x;
  const double vmax = 1.7976931348623157e308;  // float inputs read as double: Inf fails too
  const bool sums = out_entropy != nullptr || out_radial != nullptr;
  for (int64_t i = blockIdx.x; i < nspec; i += gridDim.x) {
    const T* s = values + starts[i];
    const int64_t n = lengths[i];
    int bad = 0;
    long long nnz = 0, above = 0, imax = n;  // imax = n: no positive value seen
    double best = 0.0;
    for (int64_t k = tid; k < n; k += kThreads) {
      const double v = (double)s[k];
      if (!math::valid_sigma(v, vmax)) bad = 1;
      nnz += (v > 0.0);
      above += (v > tol);
      if (v > best) {  // k increases: the first index of this thread's largest value
        best = v;
        imax = k;
      }
    }
    bad = __syncthreads_or(bad);
    if (bad) {  // the same for every thread of the block
      if (tid == 0) atomicMin(reinterpret_cast<unsigned long long*>(status), (unsigned long long)i);
      continue;
    }
    nnz = block_sum(nnz, redi);
    above = block_sum(above, redi);
    // largest value, ties to the lowest index
    redv[tid] = best;
    redi[tid] = imax;
    __syncthreads();
    for (int off = kThreads / 2; off > 0; off >>= 1) {
      if (tid < off) {
        const double ov = redv[tid + off];
        const long long oi = redi[tid + off];
        if (ov > redv[tid] || (ov == redv[tid] && oi < redi[tid])) {
          redv[tid] = ov;
          redi[tid] = oi;
        }
      }
      __syncthreads();
    }
    best = redv[0];
    imax = redi[0];
    __syncthreads();
    if (tid == 0 && out_rank != nullptr) out_rank[i] = (int64_t)above;
    if (!sums) continue;
    const double scale = math::pow2_scale(best);
    const double top = (best * scale) * (best * scale);
    math::KahanSum acc;
    for (int64_t k = tid; k < n; k += kThreads) {
      const double u = (double)s[k] * scale;
      if (k != imax) acc.add(u * u);
    }
    const double rest = block_sum(acc.value(), redv);  // Σ_{k≥2} σ_k² (scaled)
    math::KahanSum tacc;
    tacc.add(rest);
    tacc.add(top);
    const double tot = tacc.value();
    if (out_entropy != nullptr) {
      double h = 0.0;
      if (tot > 0.0) {  // the same for every thread of the block
        math::KahanSum hacc;
        for (int64_t k = tid; k < n; k += kThreads) {
          const double u = (double)s[k] * scale;
          if (k != imax && u > 0.0) hacc.add(math::entropy_term((u * u) / tot));
        }
        h = math::entropy_dominant(top, rest, tot) + block_sum(hacc.value(), redv);
      }
      if (tid == 0) out_entropy[i] = h;
    }
    if (tid == 0 && out_radial != nullptr) {
      const double d = radial_d != nullptr ? (double)radial_d[i] : (double)nnz;
      out_radial[i] = math::radial_from_sums(d, top, rest, tot);
    }
  }
}

template <class T>
int launch_stats(const T* values, const int64_t* starts, const int64_t* lengths, int64_t nspec,
                 double tol, const int64_t* radial_d, int64_t* out_rank, double* out_entropy,
                 double* out_radial, int64_t* status, uintptr_t stream) {
  if (nspec <= 0) return 0;
  const int blocks = (int)(nspec < 16384 ? nspec : 16384);
  spectrum_stats_kernel<T><<<blocks, kThreads, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
      values, starts, lengths, nspec, tol, radial_d, out_rank, out_entropy, out_radial, status);
  return (int)cudaGetLastError();
}

}  // namespace

int truncation_rank_f64(const double* values, const int64_t* starts, const int64_t* lengths,
                        int64_t nspec, const double* eps, int neps, int64_t* out, int64_t* status,
                        uintptr_t stream) {
  return launch(values, starts, lengths, nspec, eps, neps, out, status, stream);
}

int truncation_rank_f32(const float* values, const int64_t* starts, const int64_t* lengths,
                        int64_t nspec, const double* eps, int neps, int64_t* out, int64_t* status,
                        uintptr_t stream) {
  return launch(values, starts, lengths, nspec, eps, neps, out, status, stream);
}

int spectrum_stats_f64(const double* values, const int64_t* starts, const int64_t* lengths,
                       int64_t nspec, double tol, const int64_t* radial_d, int64_t* out_rank,
                       double* out_entropy, double* out_radial, int64_t* status, uintptr_t stream) {
  return launch_stats(values, starts, lengths, nspec, tol, radial_d, out_rank, out_entropy,
                      out_radial, status, stream);
}

int spectrum_stats_f32(const float* values, const int64_t* starts, const int64_t* lengths,
                       int64_t nspec, double tol, const int64_t* radial_d, int64_t* out_rank,
                       double* out_entropy, double* out_radial, int64_t* status, uintptr_t stream) {
  return launch_stats(values, starts, lengths, nspec, tol, radial_d, out_rank, out_entropy,
                      out_radial, status, stream);
}

int tails_energy_f64(const double* values, const int64_t* starts, const int64_t* lengths,
                     int64_t nspec, double* out_tails, const int64_t* tails_start,
                     double* out_energy, const int64_t* energy_start, int64_t* status,
                     uintptr_t stream) {
  return launch_tails(values, starts, lengths, nspec, out_tails, tails_start, out_energy,
                      energy_start, status, stream);
}

int tails_energy_f32(const float* values, const int64_t* starts, const int64_t* lengths,
                     int64_t nspec, double* out_tails, const int64_t* tails_start,
                     double* out_energy, const int64_t* energy_start, int64_t* status,
                     uintptr_t stream) {
  return launch_tails(values, starts, lengths, nspec, out_tails, tails_start, out_energy,
                      energy_start, status, stream);
}

}  // namespace cuda
}  // namespace gsa
