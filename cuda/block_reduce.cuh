// Block-wide tree reductions of one value per thread, shared by the one-block-per-item kernels
// (cuda/bures.cu, cuda/energy.cu, cuda/esd.cu). Every thread of the block must call them (they
// synchronize); each gets the result. red: kThreads entries of shared memory, free again on return.
#pragma once

namespace gsa {
namespace cuda {

struct SumOp {
  template <class V>
  __device__ V operator()(V a, V b) const { return a + b; }
};

struct MaxOp {
  __device__ double operator()(double a, double b) const { return fmax(a, b); }
};

template <int kThreads, class V, class Op>
__device__ V block_reduce(V v, V* red, Op op) {
  const int tid = threadIdx.x;
  red[tid] = v;
  __syncthreads();
  for (int off = kThreads / 2; off > 0; off >>= 1) {
    if (tid < off) red[tid] = op(red[tid], red[tid + off]);
    __syncthreads();
  }
  const V r = red[0];
  __syncthreads();
  return r;
}

// Σ over the block. For nonnegative terms the tree adds a relative error of at most log2(kThreads)·u.
template <int kThreads, class V>
__device__ V block_sum(V v, V* red) { return block_reduce<kThreads>(v, red, SumOp()); }

template <int kThreads>
__device__ double block_max(double v, double* red) { return block_reduce<kThreads>(v, red, MaxOp()); }

template <int kThreads>
__device__ double block_min(double v, double* red) { return -block_max<kThreads>(-v, red); }

}  // namespace cuda
}  // namespace gsa
