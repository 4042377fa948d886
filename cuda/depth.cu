// The depth family's O(d²)-per-row kernels on the GPU (depth-math §8.3, §8.5, §8.6), through the
// GSA_HD arithmetic of math/dln.hpp and math/depth.hpp shared with the CPU kernels:
// * dln_lambda_matrix: one block per (row, 32 × 32 tile of λ); the tile's 32 + 32 per-σ pieces
//   (log, powers) once in shared memory, then one dln_lambda_entry per thread and entry, written
//   along j (coalesced). The CPU's arithmetic, but not its bits: the device's log/exp/expm1 are
//   ≤ 1 ulp from the host's and nvcc contracts a·b ± c into FMAs (e.g. 1 − t·t): a few ulps.
// * dln_log_volume: one block per row; log σ into the work row, then thread t sums the pairs of
//   rows i ≡ t (mod 256) with the CPU's Kahan step (log_volume_pairs) and the block merges the
//   256 partial sums in a fixed tree (log_volume_merge): the order differs from the CPU's, the
//   compensation keeps the difference at a few ulps of the largest partial sum. The gradient:
//   one thread per σ_i, the CPU's serial j loop (log_volume_grad).
// * effective_rank: one block per spectrum; block max, then per-thread Neumaier sums of σ̂ and
//   σ̂ log σ̂ (erank_add), merged by KahanSum::add over the block, erank_finish on thread 0.
#include <cuda_runtime.h>
#include <math.h>

#include "block_reduce.cuh"
#include "depth.cuh"
#include "gsa_fast/math/compensated.hpp"
#include "gsa_fast/math/depth.hpp"
#include "gsa_fast/math/dln.hpp"

namespace gsa {
namespace cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kTile = 32;       // λ tile: kTile × kTile entries per block
constexpr int kTileRows = 8;    // blockDim.y of the λ kernel (blockDim.x = kTile)
constexpr int64_t kMaxGrid = 65535;

__global__ void dln_lambda_kernel(const double* sk, const double* sl, int64_t n_rows, int64_t m,
                                  int64_t n, double inv_n, double* out) {
  __shared__ math::DlnSigma pa[kTile], pb[kTile];
  __shared__ bool oka[kTile], okb[kTile];
  const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * kTile + tx;
  const int64_t i0 = (int64_t)blockIdx.y * kTile, j0 = (int64_t)blockIdx.x * kTile;
  const bool n_ok = inv_n >= 0.0 && inv_n <= 1.0;
  for (int64_t r = blockIdx.z; r < n_rows; r += gridDim.z) {
    if (tid < kTile && i0 + tid < m) {
      const double a = sk[r * m + i0 + tid];
      oka[tid] = math::dln_sigma_ok(a);
      pa[tid] = math::dln_sigma(a, inv_n);
    } else if (tid >= kTile && tid < 2 * kTile && j0 + tid - kTile < n) {
      const double b = sl[r * n + j0 + tid - kTile];
      okb[tid - kTile] = math::dln_sigma_ok(b);
      pb[tid - kTile] = math::dln_sigma(b, inv_n);
    }
    __syncthreads();
    const int64_t j = j0 + tx;
    for (int ii = ty; ii < kTile; ii += kTileRows) {
      const int64_t i = i0 + ii;
      if (i < m && j < n)
        out[(r * m + i) * n + j] =
            (n_ok && oka[ii] && okb[tx]) ? math::dln_lambda_entry(pa[ii], pb[tx], inv_n) : NAN;
    }
    __syncthreads();  // the next row overwrites the tile's pieces
  }
}

struct MergeLogVolume {
  __device__ math::LogVolumeSum operator()(math::LogVolumeSum a, math::LogVolumeSum b) const {
    return math::log_volume_merge(a, b);
  }
};

__global__ void dln_log_volume_kernel(const double* sigma, int64_t n_rows, int64_t d, double inv_n,
                                      double* work, double* out_s, double* out_grad) {
  __shared__ math::LogVolumeSum red[kThreads];
  const int tid = threadIdx.x;
  for (int64_t r = blockIdx.x; r < n_rows; r += gridDim.x) {
    const double* s = sigma + r * d;
    double* lg = work + r * d;
    for (int64_t i = tid; i < d; i += kThreads) lg[i] = ::log(s[i]);
    __syncthreads();
    math::LogVolumeSum acc{0.0, 0.0};
    for (int64_t i = tid; i < d; i += kThreads) math::log_volume_pairs(lg, d, i, inv_n, acc);
    acc = block_reduce<kThreads>(acc, red, MergeLogVolume());
    if (tid == 0) out_s[r] = 0.5 * acc.sum;
    if (out_grad)
      for (int64_t i = tid; i < d; i += kThreads)
        out_grad[r * d + i] = math::log_volume_grad(s, lg, d, i, inv_n);
    __syncthreads();  // lg of this row is read by every thread above
  }
}

struct ErankPart {  // two Neumaier accumulators as a plain aggregate (shared memory)
  double s, c, xs, xc;
};

struct MergeErank {
  __device__ ErankPart operator()(ErankPart a, ErankPart b) const {
    math::KahanSum sa, xa, sb, xb;
    sa.s = a.s; sa.c = a.c; xa.s = a.xs; xa.c = a.xc;
    sb.s = b.s; sb.c = b.c; xb.s = b.xs; xb.c = b.xc;
    sa.add(sb);
    xa.add(xb);
    return ErankPart{sa.s, sa.c, xa.s, xa.c};
  }
};

template <class T>
__global__ void effective_rank_kernel(const T* values, const int64_t* starts, const int64_t* lengths,
                                      int64_t n, double* out) {
  __shared__ double red[kThreads];
  __shared__ ErankPart parts[kThreads];
  const int tid = threadIdx.x;
  for (int64_t b = blockIdx.x; b < n; b += gridDim.x) {
    const T* s = values + starts[b];
    const int64_t q = lengths[b];
    double mx = 0.0;
    for (int64_t j = tid; j < q; j += kThreads) mx = fmax(mx, (double)s[j]);
    mx = block_max<kThreads>(mx, red);
    math::KahanSum sum, xl;
    if (mx > 0.0)
      for (int64_t j = tid; j < q; j += kThreads) math::erank_add((double)s[j], mx, sum, xl);
    const ErankPart p = block_reduce<kThreads>(ErankPart{sum.s, sum.c, xl.s, xl.c}, parts, MergeErank());
    if (tid == 0) out[b] = math::erank_finish(p.s + p.c, p.xs + p.xc);
  }
}

template <class T>
int effective_rank_launch(const T* values, const int64_t* starts, const int64_t* lengths, int64_t n,
                          double* out, uintptr_t stream) {
  if (n <= 0) return 0;
  const int grid = (int)(n < kMaxGrid ? n : kMaxGrid);
  effective_rank_kernel<T><<<grid, kThreads, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
      values, starts, lengths, n, out);
  return (int)cudaGetLastError();
}

}  // namespace

int dln_lambda_matrix(const double* sk, const double* sl, int64_t n_rows, int64_t m, int64_t n,
                      double inv_n, double* out, uintptr_t stream) {
  if (n_rows <= 0 || m <= 0 || n <= 0) return 0;
  const int64_t tj = (n + kTile - 1) / kTile, ti = (m + kTile - 1) / kTile;
  if (tj > 2147483647 || ti > kMaxGrid) return (int)cudaErrorInvalidConfiguration;
  const dim3 grid((unsigned)tj, (unsigned)ti, (unsigned)(n_rows < kMaxGrid ? n_rows : kMaxGrid));
  dln_lambda_kernel<<<grid, dim3(kTile, kTileRows), 0, reinterpret_cast<cudaStream_t>(stream)>>>(
      sk, sl, n_rows, m, n, inv_n, out);
  return (int)cudaGetLastError();
}

int dln_log_volume(const double* sigma, int64_t n_rows, int64_t d, double inv_n, double* work,
                   double* out_s, double* out_grad, uintptr_t stream) {
  if (n_rows <= 0) return 0;
  const int grid = (int)(n_rows < kMaxGrid ? n_rows : kMaxGrid);
  dln_log_volume_kernel<<<grid, kThreads, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
      sigma, n_rows, d, inv_n, work, out_s, out_grad);
  return (int)cudaGetLastError();
}

int effective_rank_f64(const double* values, const int64_t* starts, const int64_t* lengths,
                       int64_t n, double* out, uintptr_t stream) {
  return effective_rank_launch(values, starts, lengths, n, out, stream);
}

int effective_rank_f32(const float* values, const int64_t* starts, const int64_t* lengths,
                       int64_t n, double* out, uintptr_t stream) {
  return effective_rank_launch(values, starts, lengths, n, out, stream);
}

}  // namespace cuda
}  // namespace gsa
