// The one way kernels report failure (issue 7 item 2): a Status says what the kernel found
// (code), in which batch element (index), where inside it (position) and any solver detail
// (info). Bindings return it as a tuple; gsa_fast._status.raise_status turns it into the
// `fn(): arg must be ...; got ...` error naming the batch element. Python never re-scans data.
#pragma once

#include <cmath>
#include <cstdint>

namespace gsa {

enum StatusCode : int {
  kStatusOk = 0,
  kStatusNonFinite = 1,  // NaN or Inf somewhere in a matrix (position unknown: -1)
  kStatusLapack = 2,     // LAPACK returned info != 0
  kStatusNaN = 3,        // NaN at `position`
  kStatusInf = 4,        // ±Inf at `position`
  kStatusNegative = 5,   // a negative value at `position` (singular values must be >= 0); for
                         // the Bures pair kernels: a clearly negative eigenvalue / entry of
                         // operand `position`
  kStatusAsymmetric = 6,  // Bures: operand `position` (0 first, 1 second) is not symmetric
};

struct Status {
  int code = kStatusOk;
  int64_t index = -1;     // batch element (flat index), -1 when code == kStatusOk
  int64_t position = -1;  // element inside it (for a pair kernel: the operand, 0 or 1), -1 when not known
  int64_t info = 0;       // solver detail (LAPACK info)
};

// First invalid entry of one spectrum (NaN, ±Inf or negative) of batch element `index`.
template <class T>
Status first_invalid(const T* x, int64_t q, int64_t index) {
  Status st;
  for (int64_t k = 0; k < q; ++k) {
    const double v = (double)x[k];
    if (std::isnan(v)) st.code = kStatusNaN;
    else if (std::isinf(v)) st.code = kStatusInf;
    else if (v < 0.0) st.code = kStatusNegative;
    else continue;
    st.index = index;
    st.position = k;
    return st;
  }
  return st;
}

}  // namespace gsa
