// Single-core throughput of the chain scan's float32 × float64 GEMM (cpp/src/depth_gemm.inl)
// against OpenBLAS dgemm on the same product, side by side in one run (numbers in
// bench/results/depth.md). Not part of the build; compile and run by hand:
//
//   OB=$(python3 -c "import scipy_openblas32 as s; print(s.get_lib_dir())")
//   g++ -O3 -std=c++17 -Icpp/include bench/depth_gemm_micro.cpp -L$OB -lscipy_openblas
//       -Wl,-rpath,$OB -o /tmp/depth_gemm_micro      (one command)
//   OPENBLAS_NUM_THREADS=1 /tmp/depth_gemm_micro [layers] [rounds]
//
// Workload: Y = M·Q for `layers` float32 factors M (1024 × 1024, 4 MB each, so the whole set
// streams from memory) and a float64 Q (1024 × 64), cut into the scan's 128-row chunks. Routes
// (thread CPU time, best round): the fused kernel for each instruction set this CPU has; dgemm
// on factors converted to float64 beforehand (the floor of the float64 numpy loop); the route
// the scan used before, each chunk widened to float64 and then multiplied by dgemm.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <vector>

#include "gsa_fast/linalg/lapack.hpp"
#include "gsa_fast/simd.hpp"

namespace {
#include "../cpp/src/depth_gemm.inl"

GSA_CLONES("avx2")
void widen(const float* s, int64_t len, double* d) {  // as the scan's former widen_rows
  for (int64_t i = 0; i < len; ++i) d[i] = (double)s[i];
}

double cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}
}  // namespace

int main(int argc, char** argv) {
  const int64_t n = 1024, k = 64, rc = 128, L = argc > 1 ? std::atoi(argv[1]) : 24;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  std::mt19937 gen(1);
  std::normal_distribution<float> dist;
  std::vector<float> A((size_t)(L * n * n));
  for (auto& x : A) x = dist(gen);
  std::vector<double> A64(A.begin(), A.begin() + n * n);  // one factor, pre-converted (floor)
  std::vector<double> Qt((size_t)(n * k)), C((size_t)(n * k)), ref((size_t)(n * k)), buf((size_t)(rc * n));
  for (auto& x : Qt) x = dist(gen);  // Qᵀ, ld k: the scan's panel layout
  const double one = 1.0, zero = 0.0;
  const int ik = (int)k, in = (int)n, irc = (int)rc;
  auto gf = [&](double s) { return 2.0 * n * n * k / s / 1e9; };
  std::printf("M·Q, %lld float32 factors %lldx%lld, k = %lld, %lld-row chunks, 1 thread\n",
              (long long)L, (long long)n, (long long)n, (long long)k, (long long)rc);
  std::printf("| route | ms / layer | GF/s |\n|---|---|---|\n");
  const ScanIsa have = scan_isa();
  for (int i = 0; i <= (int)have; ++i) {
    const ScanIsa isa = (ScanIsa)i;
    if (isa == ScanIsa::kScalar && GSA_SCAN_X86) continue;  // software fma: not a route there
    const int NR = scan_panel_nr(isa);
    std::vector<double> qp((size_t)packed_q_size(n, k, NR)), ap((size_t)packed_strip_size(rc));
    pack_q_rows(Qt.data(), k, n, 0, n, NR, qp.data());
    double best = 1e30;
    for (int r = 0; r < rounds; ++r) {
      const double t0 = cpu_now();
      for (int64_t l = 0; l < L; ++l)
        for (int64_t r0 = 0; r0 < n; r0 += rc)
          gemm_f32_f64(A.data() + l * n * n + r0 * n, n, 1, rc, n, qp.data(), k,
                       C.data() + r0 * k, ap.data(), isa);
      best = std::min(best, (cpu_now() - t0) / L);
    }
    const char* name[] = {"portable (std::fma)", "AVX2 8x8", "AVX-512 8x16"};
    std::printf("| fused float32 x float64, %s | %.3f | %.1f |\n", name[i], best * 1e3, gf(best));
  }
  double best = 1e30;
  for (int r = 0; r < rounds; ++r) {  // the floor: dgemm on a factor already in float64
    const double t0 = cpu_now();
    for (int64_t l = 0; l < L; ++l)
      scipy_dgemm_("N", "N", &ik, &in, &in, &one, Qt.data(), &ik, A64.data(), &in, &zero,
                   ref.data(), &ik, 1, 1);
    best = std::min(best, (cpu_now() - t0) / L);
  }
  std::printf("| dgemm, factor pre-converted to float64 (in cache) | %.3f | %.1f |\n", best * 1e3, gf(best));
  best = 1e30;
  for (int r = 0; r < rounds; ++r) {  // the previous route: widen a chunk, then dgemm
    const double t0 = cpu_now();
    for (int64_t l = 0; l < L; ++l)
      for (int64_t r0 = 0; r0 < n; r0 += rc) {
        widen(A.data() + l * n * n + r0 * n, rc * n, buf.data());
        scipy_dgemm_("N", "N", &ik, &irc, &in, &one, Qt.data(), &ik, buf.data(), &in, &zero,
                     C.data() + r0 * k, &ik, 1, 1);
      }
    best = std::min(best, (cpu_now() - t0) / L);
  }
  std::printf("| widen each chunk, then dgemm (the previous route) | %.3f | %.1f |\n", best * 1e3, gf(best));
  return 0;
}
