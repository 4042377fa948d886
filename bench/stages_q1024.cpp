// Stage timings of the Gram route at q = 1024 on one thread (issue 9, bench/results/spectra.md):
// bf16 -> float64 conversion, the Gram (dsyrk and the 256/512 tiles, lower/upper, both layouts),
// LAPACK's values-only eigensolvers (dsyevd, dsytrd U/L + dsterf, dsyevd_2stage, dsyev_2stage),
// our band route at band widths 8-64, and dsterf against sterf_lanes (four tridiagonals at once).
// Built and run by bench/spectra_q1024.py (g++ against the scipy-openblas32 wheel); prints
// minimum wall and thread-CPU milliseconds over `reps` runs and GF/s against the flop count.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

#include "gsa_fast/linalg/band_eig.hpp"
#include "gsa_fast/linalg/lapack.hpp"
#include "gsa_fast/linalg/sterf_lanes.hpp"
#include "gsa_fast/math/bf16.hpp"

extern "C" void scipy_dsyev_2stage_(const char*, const char*, const int*, double*, const int*, double*, double*,
                                    const int*, int*, size_t, size_t);  // measured only, not used by gsa_fast

using namespace gsa::cpu;
namespace {
double wall() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
double cpu() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}
int reps = 3;
void bench(const char* name, const std::function<void()>& prep, const std::function<void()>& f, double flops) {
  double bw = 1e9, bc = 1e9;
  for (int r = 0; r < reps; ++r) {
    prep();
    const double w0 = wall(), c0 = cpu();
    f();
    bc = std::min(bc, cpu() - c0);
    bw = std::min(bw, wall() - w0);
  }
  std::printf("%-40s wall %7.1f ms  cpu %7.1f ms", name, 1e3 * bw, 1e3 * bc);
  if (flops > 0) std::printf("  %5.1f GF/s", flops / bc / 1e9);
  std::printf("\n");
  std::fflush(stdout);
}
}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) reps = std::atoi(argv[1]);
  scipy_openblas_set_num_threads(1);
  const int q = 1024;
  const char U = 'U', L = 'L', N = 'N', T = 'T';
  const double one = 1.0, zero = 0.0;
  std::mt19937_64 rng(1);
  std::normal_distribution<double> nd;
  std::vector<double> G((size_t)q * q);
  char lbl[80];
  for (int K : {1024, 4096}) {
    std::vector<uint16_t> S((size_t)K * q);
    for (auto& s : S) {
      const float f = (float)(nd(rng) * 0.03);
      uint32_t u;
      std::memcpy(&u, &f, 4);
      s = (uint16_t)(u >> 16);
    }
    std::vector<double> P((size_t)K * q);
    std::snprintf(lbl, sizeof lbl, "convert bf16->f64 %dx%d", K, q);
    bench(lbl, [] {}, [&] { for (size_t i = 0; i < S.size(); ++i) P[i] = gsa::math::bf16_to_double(S[i]); }, 0);
    const double fl = (double)q * q * K;
    for (const char* uplo : {&U, &L})
      for (int tr = 0; tr < 2; ++tr) {  // tr 0: P column-major q×K (G = P Pᵀ); 1: K×q (G = PᵀP)
        std::snprintf(lbl, sizeof lbl, "dsyrk %c %c q=%d K=%d", *uplo, tr ? 'T' : 'N', q, K);
        bench(lbl, [] {}, [&] {
          scipy_dsyrk_(uplo, tr ? &T : &N, &q, &K, &one, P.data(), tr ? &K : &q, &zero, G.data(), &q, 1, 1);
        }, fl);
      }
    for (int tb : {256, 512})
      for (int tr = 0; tr < 2; ++tr) {
        std::snprintf(lbl, sizeof lbl, "tiles%d L %c q=%d K=%d", tb, tr ? 'T' : 'N', q, K);
        bench(lbl, [] {}, [&] {
          const int nb = q / tb;
          for (int bj = 0; bj < nb; ++bj)
            for (int bi = bj; bi < nb; ++bi) {
              double* C = G.data() + bi * tb + (size_t)bj * tb * q;
              const double* Xi = tr ? P.data() + (size_t)bi * tb * K : P.data() + bi * tb;
              const double* Xj = tr ? P.data() + (size_t)bj * tb * K : P.data() + bj * tb;
              const int* ld = tr ? &K : &q;
              if (bi == bj)
                scipy_dsyrk_(&L, tr ? &T : &N, &tb, &K, &one, Xi, ld, &zero, C, &q, 1, 1);
              else
                scipy_dgemm_(tr ? &T : &N, tr ? &N : &T, &tb, &tb, &K, &one, Xi, ld, Xj, ld, &zero, C, &q, 1, 1);
            }
        }, fl);
      }
  }
  // a Gram (full symmetric) for the eigensolvers
  std::vector<double> X((size_t)q * 2 * q);
  for (auto& x : X) x = nd(rng);
  std::vector<double> G0((size_t)q * q);
  const int K2 = 2 * q;
  scipy_dsyrk_(&L, &N, &q, &K2, &one, X.data(), &q, &zero, G0.data(), &q, 1, 1);
  for (int j = 0; j < q; ++j)
    for (int i = j + 1; i < q; ++i) G0[j + (size_t)i * q] = G0[i + (size_t)j * q];
  std::vector<double> A, w(q), d(q), e(q + 1), tau(q);
  auto prep = [&] { A = G0; };
  const double fe = 4.0 / 3.0 * q * q * q;
  int info = 0;
  double wq = 0.0;
  int iwq = 0, lw = -1, liw = -1;
  scipy_dsyevd_(&N, &L, &q, G0.data(), &q, w.data(), &wq, &lw, &iwq, &liw, &info, 1, 1);
  std::vector<double> work((size_t)wq);
  std::vector<int> iwork((size_t)iwq);
  lw = (int)wq;
  liw = iwq;
  bench("dsyevd N L", prep, [&] { scipy_dsyevd_(&N, &L, &q, A.data(), &q, w.data(), work.data(), &lw, iwork.data(), &liw, &info, 1, 1); }, fe);
  const std::vector<double> ref = w;
  lw = -1;
  scipy_dsytrd_(&U, &q, G0.data(), &q, d.data(), e.data(), tau.data(), &wq, &lw, &info, 1);
  std::vector<double> wt((size_t)wq);
  lw = (int)wq;
  std::vector<double> dU, eU, dL, eL;
  bench("dsytrd U", prep, [&] { scipy_dsytrd_(&U, &q, A.data(), &q, d.data(), e.data(), tau.data(), wt.data(), &lw, &info, 1); }, fe);
  dU = d, eU = e;
  bench("dsytrd L", prep, [&] { scipy_dsytrd_(&L, &q, A.data(), &q, d.data(), e.data(), tau.data(), wt.data(), &lw, &info, 1); }, fe);
  dL = d, eL = e;
  std::vector<double> dd, ee;
  bench("dsterf", [&] { dd = dL; ee = eL; }, [&] { scipy_dsterf_(&q, dd.data(), ee.data(), &info); }, 0);
  {
    std::vector<std::vector<double>> D(4), E(4);
    std::vector<double*> pd(4), pe(4);
    std::vector<int64_t> nn(4, q);
    std::vector<int> inf(4);
    bench("sterf_lanes, 4 tridiagonals (total)", [&] {
      for (int c = 0; c < 4; ++c) {
        D[c] = dL, E[c] = eL, pd[c] = D[c].data(), pe[c] = E[c].data();
      }
    }, [&] { sterf_lanes(4, nn.data(), pd.data(), pe.data(), inf.data()); }, 0);
    std::printf("    sterf_lanes == dsterf bitwise: %s\n", D[0] == dd ? "yes" : "no");
  }
  lw = -1;
  liw = -1;
  scipy_dsyevd_2stage_(&N, &L, &q, G0.data(), &q, w.data(), &wq, &lw, &iwq, &liw, &info, 1, 1);
  std::vector<double> w2((size_t)wq);
  std::vector<int> iw2((size_t)iwq);
  lw = (int)wq;
  liw = iwq;
  bench("dsyevd_2stage N L", prep, [&] { scipy_dsyevd_2stage_(&N, &L, &q, A.data(), &q, w.data(), w2.data(), &lw, iw2.data(), &liw, &info, 1, 1); }, fe);
  lw = -1;
  scipy_dsyev_2stage_(&N, &L, &q, G0.data(), &q, w.data(), &wq, &lw, &info, 1, 1);
  std::vector<double> w3((size_t)wq);
  lw = (int)wq;
  bench("dsyev_2stage N L", prep, [&] { scipy_dsyev_2stage_(&N, &L, &q, A.data(), &q, w.data(), w3.data(), &lw, &info, 1, 1); }, fe);
  for (int kd : {8, 16, 24, 32, 48, 64}) {
    std::snprintf(lbl, sizeof lbl, "band route kd=%d (1 thread)", kd);
    bench(lbl, prep, [&] { band_eigvalues_kd(q, A.data(), q, 1, w.data(), kd); }, fe);
    double err = 0.0;
    for (int i = 0; i < q; ++i) err = std::max(err, std::fabs(w[i] - ref[i]) / ref[q - 1]);
    std::printf("    max |λ - λ_dsyevd| / λ_max = %.1e\n", err);
  }
  return 0;
}
