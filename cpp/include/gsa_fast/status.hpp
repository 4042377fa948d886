// The one way kernels report failure (issue 7 item 2): a Status says what the kernel found
// (code), in which batch element (index), where inside it (position) and any solver detail
// (info). Bindings return it as a tuple; gsa_fast._status.raise_status turns it into the
// `fn(): arg must be ...; got ...` error naming the batch element. Python never re-scans data.
#pragma once

#include <cmath>
#include <cstdint>
#include <mutex>

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

// Kernels whose workers find failures concurrently report each one here; the failure of lowest
// batch index is kept in *out (reset to OK on construction). Thread-safe; locks only on failure.
class FirstFailure {
 public:
  explicit FirstFailure(Status* out) : out_(out) { *out_ = Status{}; }
  void report(const Status& st) {
    if (st.code == kStatusOk) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (out_->code != kStatusOk && out_->index <= st.index) return;
    *out_ = st;
  }

 private:
  Status* out_;
  std::mutex mu_;
};

// The status of one invalid value v found at `position` of batch element `index`.
inline Status invalid_value(double v, int64_t index, int64_t position) {
  Status st;
  st.code = std::isnan(v) ? kStatusNaN : std::isinf(v) ? kStatusInf : kStatusNegative;
  st.index = index;
  st.position = position;
  return st;
}

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
