// CUDA launchers of the depth family's O(d²)-per-row kernels (device pointers in and out): the
// DLN operator eigenvalues λ_kl (depth-math §8.3), the entropic log-volume and its gradient
// (§8.5) and the effective rank (§8.6). Each calls the GSA_HD functions of math/dln.hpp and
// math/depth.hpp that the CPU kernels (cpp/src/depth.cpp, depth_graded.cpp) call. All launch on
// the caller's stream and return a cudaError_t as int (the launch check).
#pragma once

#include <cstdint>

namespace gsa {
namespace cuda {

// out[r, i, j] = λ(sk[r, i], sl[r, j]) for r < n_rows, i < m, j < n (row-major, float64), inv_n =
// 1/N (0: N = ∞). One block per (row, 32 × 32 tile): the tile's per-σ pieces (dln_sigma) once in
// shared memory, then dln_lambda_entry per entry. A σ that is negative or infinite gives NaN in
// its entries (the CPU kernel fills the whole row; the Python routes refuse such σ first).
int dln_lambda_matrix(const double* sk, const double* sl, int64_t n_rows, int64_t m, int64_t n,
                      double inv_n, double* out, uintptr_t stream);

// out_s[r] = S_N of sigma[r, :d] (½ Σ_{j<k} log λ_jk, compensated), out_grad[r, i] = ∂S/∂σ_i
// (out_grad may be null). One block per row; work: n_rows × d float64 (log σ, written here).
int dln_log_volume(const double* sigma, int64_t n_rows, int64_t d, double inv_n, double* work,
                   double* out_s, double* out_grad, uintptr_t stream);

// out[i] = effective rank of values[starts[i] .. + lengths[i]) (σ ≥ 0, any order; NaN for an
// all-zero or empty spectrum). One block per spectrum: max, then Neumaier sums merged over the
// block.
int effective_rank_f64(const double* values, const int64_t* starts, const int64_t* lengths,
                       int64_t n, double* out, uintptr_t stream);
int effective_rank_f32(const float* values, const int64_t* starts, const int64_t* lengths,
                       int64_t n, double* out, uintptr_t stream);

}  // namespace cuda
}  // namespace gsa
