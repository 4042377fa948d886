// See linalg/svd_stages.hpp.
#include "gsa_fast/linalg/svd_stages.hpp"

#include <algorithm>

#include "gsa_fast/interrupt.hpp"
#include "gsa_fast/linalg/lapack.hpp"

namespace gsa {
namespace cpu {
namespace {

// QR panel width: twice dgeqrf's block size. dormqr only blocks (dlarft + dlarfb, level 3) when
// it gets more reflectors than its own block of 32; with 32 it falls back to dorm2r (level 2),
// measured 4.6× slower on the trailing update of a 2752 × 1024 matrix.
constexpr int kQrPanel = 64;
constexpr int kQrChunk = 1024;    // trailing columns per dormqr call
constexpr int kBrdPanel = 16;     // dlabrd panel: each column reads the trailing matrix twice,
                                  // so a panel of 16 at n = 4096 is ~0.3 s of memory traffic
constexpr int kBrdCrossover = 128;  // dgebrd's NX: below it the unblocked dgebd2

// In place: A (m×n) → R in its top n×n (zeros below the diagonal). Returns info.
int qr_by_panels(int m, int n, double* A, int lda, std::vector<double>& work) {
  std::vector<double> tau((size_t)n);
  int info = 0, lw = -1;
  double q1 = 0.0, q2 = 0.0;
  const int p0 = std::min(kQrPanel, n);
  scipy_dgeqrf_(&m, &p0, A, &lda, tau.data(), &q1, &lw, &info);
  if (info) return info;
  if (n > p0) {
    const char L = 'L', T = 'T';
    const int rest = std::min(kQrChunk, n - p0);
    scipy_dormqr_(&L, &T, &m, &rest, &p0, A, &lda, tau.data(), A + (size_t)p0 * lda, &lda, &q2, &lw,
                  &info, 1, 1);
    if (info) return info;
  }
  work.resize((size_t)std::max(1.0, std::max(q1, q2)));
  lw = (int)work.size();
  for (int j = 0; j < n; j += kQrPanel) {
    interrupt_point();
    const int jb = std::min(kQrPanel, n - j), mj = m - j;
    double* P = A + j + (size_t)j * lda;
    scipy_dgeqrf_(&mj, &jb, P, &lda, tau.data() + j, work.data(), &lw, &info);
    if (info) return info;
    // the trailing columns in chunks (each chunk gets the same reflectors: the arithmetic is
    // column by column), so that one interrupt point covers at most ~4·m·kQrChunk·jb flops
    for (int c0 = j + jb; c0 < n; c0 += kQrChunk) {
      if (c0 > j + jb) interrupt_point();
      const char L = 'L', T = 'T';
      const int cols = std::min(kQrChunk, n - c0);
      scipy_dormqr_(&L, &T, &mj, &cols, &jb, P, &lda, tau.data() + j, A + j + (size_t)c0 * lda, &lda,
                    work.data(), &lw, &info, 1, 1);
      if (info) return info;
    }
  }
  for (int j = 0; j < n; ++j)
    for (int i = j + 1; i < n; ++i) A[i + (size_t)j * lda] = 0.0;
  return 0;
}

// dgebrd for m ≥ n (LAPACK's loop, with an interrupt point per panel): d (n), e (n − 1).
void bidiagonalize(int m, int n, double* A, int lda, double* d, double* e, std::vector<double>& work) {
  std::vector<double> tauq((size_t)n), taup((size_t)n);
  const int nb = kBrdPanel, ldx = m, ldy = n;
  work.resize(std::max<size_t>((size_t)(ldx + ldy) * nb, (size_t)std::max(m, n)));
  double* X = work.data();
  double* Y = work.data() + (size_t)ldx * nb;
  const double one = 1.0, mone = -1.0;
  int i = 0;
  if (n > kBrdCrossover) {
    for (; i < n - kBrdCrossover; i += nb) {
      interrupt_point();
      const int mi = m - i, ni = n - i, mr = m - i - nb, nr = n - i - nb;
      double* Aii = A + i + (size_t)i * lda;
      scipy_dlabrd_(&mi, &ni, &nb, Aii, &lda, d + i, e + i, tauq.data() + i, taup.data() + i, X, &ldx,
                    Y, &ldy);
      const char N = 'N', T = 'T';
      // A22 −= V·Yᵀ + X·U (the rank-2nb update of the trailing matrix)
      scipy_dgemm_(&N, &T, &mr, &nr, &nb, &mone, Aii + nb, &lda, Y + nb, &ldy, &one,
                   Aii + nb + (size_t)nb * lda, &lda, 1, 1);
      scipy_dgemm_(&N, &N, &mr, &nr, &nb, &mone, X + nb, &ldx, Aii + (size_t)nb * lda, &lda, &one,
                   Aii + nb + (size_t)nb * lda, &lda, 1, 1);
      for (int j = i; j < i + nb; ++j) {  // restore the bidiagonal entries dlabrd overwrote
        A[j + (size_t)j * lda] = d[j];
        A[j + (size_t)(j + 1) * lda] = e[j];
      }
    }
  }
  interrupt_point();
  const int mi = m - i, ni = n - i;
  int info = 0;
  std::vector<double> w2((size_t)std::max(mi, ni));
  scipy_dgebd2_(&mi, &ni, A + i + (size_t)i * lda, &lda, d + i, e + i, tauq.data() + i,
                taup.data() + i, w2.data(), &info);
}

}  // namespace

int svd_values_staged(int64_t m64, int64_t n64, double* A, int64_t lda64, double* s,
                      std::vector<double>& work) {
  const int m = (int)m64, n = (int)n64, lda = (int)lda64;
  if (n <= 0) return 0;
  int rows = m;
  if ((int64_t)m * 6 >= (int64_t)n * 11) {  // dgesdd's MNTHR: QR first, then R (n×n)
    const int info = qr_by_panels(m, n, A, lda, work);
    if (info) return info;
    rows = n;
  }
  std::vector<double> e((size_t)std::max(1, n));
  bidiagonalize(rows, n, A, lda, s, e.data(), work);
  interrupt_point();
  const char U = 'U';
  const int zero = 0, one = 1;
  double dummy = 0.0;
  int info = 0;
  work.resize((size_t)4 * n);
  scipy_dbdsqr_(&U, &n, &zero, &zero, &zero, s, e.data(), &dummy, &one, &dummy, &one, &dummy, &one,
                work.data(), &info, 1);
  return info;
}

}  // namespace cpu
}  // namespace gsa
