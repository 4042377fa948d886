// Keeps the LAPACK prototypes honest: every declaration in lapack.hpp must resolve against
// libscipy_openblas at link time (this function is referenced from the module; never called).
#include "gsa_fast/linalg/lapack.hpp"

namespace gsa {

void* lapack_symbol_table[] = {
    (void*)&scipy_dsyrk_,        (void*)&scipy_dgemm_,   (void*)&scipy_dsyevd_,
    (void*)&scipy_dsyevd_2stage_, (void*)&scipy_dsterf_,
    (void*)&scipy_dgesdd_,       (void*)&scipy_dgeqrf_,  (void*)&scipy_dorgqr_,
    (void*)&scipy_dsymm_,        (void*)&scipy_dsyr2k_,  (void*)&scipy_dtrmm_,
    (void*)&scipy_dsytrd_sb2st_, (void*)&scipy_dlarft_,  (void*)&scipy_dsb2st_kernels_,
    (void*)&scipy_openblas_set_num_threads, (void*)&scipy_openblas_get_num_threads,
    (void*)&scipy_openblas_set_threads_callback_function,
    (void*)&scipy_dormqr_,       (void*)&scipy_dlabrd_,  (void*)&scipy_dgebd2_,
    (void*)&scipy_dbdsqr_,
};

}  // namespace gsa
