// The LAPACK/BLAS entry points gsa_fast calls (only those: tests/test_build_options.py checks
// that each is called), from the scipy-openblas32 wheel
// (libscipy_openblas.so: Fortran symbols with a scipy_ prefix, 32-bit integers, hidden string
// lengths at the end). Declared here rather than through the wheel's lapack.h, whose prefixing
// macros are not uniform across routines. Column-major, as Fortran: a C-contiguous m×n matrix
// is the column-major n×m matrix (its transpose).
#pragma once

#include <cstddef>

extern "C" {
// ---- BLAS ---------------------------------------------------------------------------------
void scipy_dsyrk_(const char* uplo, const char* trans, const int* n, const int* k,
                  const double* alpha, const double* a, const int* lda, const double* beta,
                  double* c, const int* ldc, size_t, size_t);
void scipy_dgemm_(const char* ta, const char* tb, const int* m, const int* n, const int* k,
                  const double* alpha, const double* a, const int* lda, const double* b,
                  const int* ldb, const double* beta, double* c, const int* ldc, size_t, size_t);
void scipy_dsymm_(const char* side, const char* uplo, const int* m, const int* n,
                  const double* alpha, const double* a, const int* lda, const double* b,
                  const int* ldb, const double* beta, double* c, const int* ldc, size_t, size_t);
void scipy_dsyr2k_(const char* uplo, const char* trans, const int* n, const int* k,
                   const double* alpha, const double* a, const int* lda, const double* b,
                   const int* ldb, const double* beta, double* c, const int* ldc, size_t, size_t);
void scipy_dtrmm_(const char* side, const char* uplo, const char* transa, const char* diag,
                  const int* m, const int* n, const double* alpha, const double* a, const int* lda,
                  double* b, const int* ldb, size_t, size_t, size_t, size_t);

// ---- LAPACK: symmetric eigensolvers ----------------------------------------------------------
void scipy_dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda,
                   double* w, double* work, const int* lwork, int* iwork, const int* liwork,
                   int* info, size_t, size_t);
void scipy_dsyevd_2stage_(const char* jobz, const char* uplo, const int* n, double* a,
                          const int* lda, double* w, double* work, const int* lwork, int* iwork,
                          const int* liwork, int* info, size_t, size_t);
void scipy_dsterf_(const int* n, double* d, double* e, int* info);
// one-stage tridiagonal reduction (the values-only route of batches, cpp/src/spectra/gram.inl)
void scipy_dsytrd_(const char* uplo, const int* n, double* a, const int* lda, double* d, double* e,
                   double* tau, double* work, const int* lwork, int* info, size_t);
void scipy_dsytrd_sb2st_(const char* stage1, const char* vect, const char* uplo, const int* n,
                         const int* kd, double* ab, const int* ldab, double* d, double* e,
                         double* hous, const int* lhous, double* work, const int* lwork, int* info,
                         size_t, size_t, size_t);
// Fortran LOGICAL wantz as int; one hidden string length (uplo).
void scipy_dsb2st_kernels_(const char* uplo, const int* wantz, const int* ttype, const int* st,
                           const int* ed, const int* sweep, const int* n, const int* nb,
                           const int* ib, double* a, const int* lda, double* v, double* tau,
                           const int* ldvt, double* work, size_t);
void scipy_dlarft_(const char* direct, const char* storev, const int* n, const int* k,
                   const double* v, const int* ldv, const double* tau, double* t, const int* ldt,
                   size_t, size_t);

// ---- LAPACK: SVD and QR ----------------------------------------------------------------------
void scipy_dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda,
                   double* s, double* u, const int* ldu, double* vt, const int* ldvt, double* work,
                   const int* lwork, int* iwork, int* info, size_t);
void scipy_dgeqrf_(const int* m, const int* n, double* a, const int* lda, double* tau,
                   double* work, const int* lwork, int* info);
void scipy_dorgqr_(const int* m, const int* n, const int* k, double* a, const int* lda,
                   const double* tau, double* work, const int* lwork, int* info);
// one-sided Jacobi SVD (relatively accurate on column-graded input; cpp/src/depth_graded.cpp)
void scipy_dgesvj_(const char* joba, const char* jobu, const char* jobv, const int* m,
                   const int* n, double* a, const int* lda, double* sva, const int* mv, double* v,
                   const int* ldv, double* work, const int* lwork, int* info, size_t, size_t,
                   size_t);
// condition estimate of a triangular matrix (the factors' κ in cpp/src/depth_graded.cpp)
void scipy_dtrcon_(const char* norm, const char* uplo, const char* diag, const int* n,
                   const double* a, const int* lda, double* rcond, double* work, int* iwork,
                   int* info, size_t, size_t, size_t);
// the stages of a values-only dgesdd, called one panel at a time (cpp/src/svd_stages.cpp)
void scipy_dormqr_(const char* side, const char* trans, const int* m, const int* n, const int* k,
                   const double* a, const int* lda, const double* tau, double* c, const int* ldc,
                   double* work, const int* lwork, int* info, size_t, size_t);
void scipy_dlabrd_(const int* m, const int* n, const int* nb, double* a, const int* lda, double* d,
                   double* e, double* tauq, double* taup, double* x, const int* ldx, double* y,
                   const int* ldy);
void scipy_dgebd2_(const int* m, const int* n, double* a, const int* lda, double* d, double* e,
                   double* tauq, double* taup, double* work, int* info);
void scipy_dbdsqr_(const char* uplo, const int* n, const int* ncvt, const int* nru, const int* ncc,
                   double* d, double* e, double* vt, const int* ldvt, double* u, const int* ldu,
                   double* c, const int* ldc, double* work, int* info, size_t);

// ---- OpenBLAS threading ----------------------------------------------------------------------
void scipy_openblas_set_num_threads(int);
int scipy_openblas_get_num_threads(void);
// Caller-managed threading (OpenBLAS ≥ 0.3.27, cblas.h): OpenBLAS hands each parallel region
// to the callback, which must run dojob(i, jobdata + i·elsize, dojob_data) for every i in
// [0, numjobs) concurrently and return when all are done.
typedef void (*scipy_openblas_dojob_callback)(int thread_num, void* jobdata, int dojob_data);
typedef void (*scipy_openblas_threads_callback)(int sync, scipy_openblas_dojob_callback dojob,
                                                int numjobs, size_t jobdata_elsize, void* jobdata,
                                                int dojob_data);
void scipy_openblas_set_threads_callback_function(scipy_openblas_threads_callback callback);
// CholeskyQR2 and float32 panels of the depth chain scan (cpp/src/depth.cpp)
void scipy_sgemm_(const char* ta, const char* tb, const int* m, const int* n, const int* k,
                  const float* alpha, const float* a, const int* lda, const float* b,
                  const int* ldb, const float* beta, float* c, const int* ldc, size_t, size_t);
void scipy_dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info, size_t);
void scipy_dtrsm_(const char* side, const char* uplo, const char* transa, const char* diag,
                  const int* m, const int* n, const double* alpha, const double* a,
                  const int* lda, double* b, const int* ldb, size_t, size_t, size_t, size_t);
// Rayleigh-Ritz of the block Lanczos in product_norm (cpp/src/margins.cpp)
void scipy_dsyevr_(const char* jobz, const char* range, const char* uplo, const int* n, double* a,
                   const int* lda, const double* vl, const double* vu, const int* il,
                   const int* iu, const double* abstol, int* m, double* w, double* z,
                   const int* ldz, int* isuppz, double* work, const int* lwork, int* iwork,
                   const int* liwork, int* info, size_t, size_t, size_t);
}
