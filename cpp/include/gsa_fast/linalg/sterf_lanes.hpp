// Eigenvalues of many small symmetric tridiagonal matrices at once (CPU).
//
// LAPACK's dsterf (Pal–Walker–Kahan root-free QL/QR) is latency bound: each step of its inner
// loop waits on two divisions of the previous step, so one core runs it at a fraction of its
// throughput. sterf_lanes runs the same algorithm on four matrices interleaved step by step
// (four independent dependency chains in flight), refilling a lane from the queue as soon as its
// matrix is done. Arithmetic per matrix is dsterf's, step for step, with one change of form:
// a block whose bottom diagonal entry is smaller than its top is reversed in place and run by
// QL (LAPACK runs QR on it; the reversed matrix is similar, and QR on T is QL on JTJ).
#pragma once

#include <cstdint>

namespace gsa {
namespace cpu {

// Problem k: d[k] (n[k] diagonal entries) and e[k] (the n[k] − 1 off-diagonal entries, with room
// for n[k]: one slot past the end is scratch). On return d[k] holds the eigenvalues ascending,
// e[k] is destroyed and info[k] is dsterf's INFO (> 0: that many off-diagonal entries did not
// converge in 30·n iterations; d[k] is then unsorted and incomplete).
void sterf_lanes(int64_t count, const int64_t* n, double* const* d, double* const* e, int* info);

}  // namespace cpu
}  // namespace gsa
