// CUDA launchers for the Bures–Wasserstein routes (spec §5.2; device pointers in and out). The
// dense factorizations between them (eigh, matmul, svd, qr) are cupy's cuSOLVER/cuBLAS calls,
// made by python/gsa_fast/_gpu_bures.py; these kernels do the GSA-specific checks and reductions
// with the arithmetic of gsa_fast/math/bures.hpp that the CPU kernels (cpp/src/bures.cpp) run.
#pragma once

#include <cstdint>

namespace gsa {
namespace cuda {

// Load nmat matrices X_m (rows×cols, element (i, j) at base + offsets[m] + i·rs + j·cs bytes,
// any signed strides; float32 when f32, else float64) into W[m·rows·cols + i·cols + j] as float64, one block per matrix.
//   symmetric (route (a), rows = cols): scale by the even 2^e of math::scale_exponent(max|X|,
//     2^-500, 2^500); code 2 when max|X − Xᵀ| > sym_rtol·max|X| (after scaling); W = (X + Xᵀ)/2;
//     out_sum = trace.
//   factor (route (b)): scale by 2^e of math::scale_exponent(max|X|, 2^-250, 2^250, odd allowed);
//     out_sum = Σ x² of the scaled entries.
// out_exp[m] = the exponent out_sum carries (e, or 2e for a factor); code[m] = 0 ok, 1 NaN/Inf (W zeroed), 2 asymmetric. Returns a cudaError_t.
int bures_load(const void* base, bool f32, const int64_t* offsets, int64_t nmat, int64_t rows,
               int64_t cols, int64_t rs, int64_t cs, bool symmetric, double sym_rtol, double* W,
               double* out_sum, int* out_exp, int* code, uintptr_t stream);

// Eigenvalues w (nmat × n, ascending per row, as eigh returns them) of matrices whose code is 0:
// code 3 when w[0] < −psd_rtol·max(|w[0]|, |w[n−1]|), 7 when some w is NaN/Inf (the solver
// failed); otherwise w[k] ← √w[k] for w[k] > 0 and 0 for the clipped rest, in place (the CPU
// kernel's eig_psd). One block per matrix. Returns a cudaError_t.
int bures_sqrt_eig(double* w, int64_t nmat, int64_t n, double psd_rtol, int* code,
                   uintptr_t stream);

// One thread per pair b < npairs of own matrices ip = pidx[b], iq = qidx[b]:
//   status[0] (set by the caller to INT64_MAX) ← min over failed pairs of 8·b + c, c the pair's
//   BuresStatus (P's code, else 3 + Q's code; 7 for a solver failure of either);
//   F = Σ sv[b·k .. b·k + k) (small to large; 0 when sv is null), and through math/bures.hpp
//   out_fid[b] = unscaled_fidelity(F, ep, eq), out_dist[b] = scaled_distance(trp, ep, trq, eq, F),
//   NaN for a failed pair (either output may be null). Returns a cudaError_t.
int bures_pairs(const int64_t* pidx, const int64_t* qidx, int64_t npairs, const int* code_p,
                const int* code_q, const double* tr_p, const int* exp_p, const double* tr_q,
                const int* exp_q, const double* sv, int64_t k, double* out_dist,
                double* out_fid, int64_t* status, uintptr_t stream);

// Routes (c)/(d): one block per pair b < npairs of vectors a at a_base + a_off[b] (element stride
// sa bytes) and b at b_base + b_off[b] (stride sb), n entries each. Checks as the CPU kernel
// (NaN/Inf: code 1/4; an entry below −neg_rtol·max|entry|: 3/6; smaller negatives clipped to 0);
// status[0] ← min over failed pairs of 8·b + code (set by the caller to INT64_MAX). With
// sort_desc, each vector must be sorted (descending, or ascending, then read backwards):
// status[1] ← 1 when some valid pair has one that is neither (the caller sorts and relaunches).
// out[b] = ‖√a − √b‖₂ (math::sqrt_diff terms, the scaled ssq pass when the plain sum leaves
// [1e-280, 1e300]). Returns a cudaError_t.
// a_f32 / b_f32: the operand is float32 (else float64); the two may differ.
int bures_diag(const void* a_base, bool a_f32, const int64_t* a_off, int64_t sa,
               const void* b_base, bool b_f32, const int64_t* b_off, int64_t sb, int64_t npairs,
               int64_t n, bool sort_desc, double neg_rtol_a, double neg_rtol_b, double* out,
               int64_t* status, uintptr_t stream);

}  // namespace cuda
}  // namespace gsa
