// The Benettin/QR chain scan (depth-math §4.1–§4.2) on a team of workers: included by depth.cpp
// inside its anonymous namespace (it uses elem, frob and QrWork from there).
//
// One step ℓ, for the m rows of M_ℓ cut into fixed chunks of rc rows (rc depends on the factor's
// column count only, never on the number of workers):
//   phase A  (per chunk, any worker): Y_c = D_c M_c Q (float32 factors: the float32 × float64
//            GEMM of depth_gemm.inl, Q packed by the previous step; otherwise dgemm, the rows
//            converted to float64 in an L2-sized panel first when BLAS cannot read them),
//            Y_c ← Y_c R₂⁻¹ (the previous step's deferred CholeskyQR factor: dtrmm with its
//            inverse on the fused route, else dtrsm), G_c = Y_cᵀY_c (dsyrk);       barrier
//   every worker: G = Σ_c G_c in chunk order, R₁ = chol(G) (redundantly: no serial section);
//   phase B  (per chunk): Y_c ← Y_c R₁⁻¹, G_c = Y_cᵀY_c;                               barrier
//   every worker: R₂ = chol(Σ_c G_c); |R_jj| = R₁_jj·R₂_jj; the panel Y R₁⁻¹ is the next step's
//            input, and its R₂⁻¹ is applied to the next product's rows (A(YR₁⁻¹R₂⁻¹) =
//            (A·YR₁⁻¹)R₂⁻¹), which saves a pass and a barrier.
// CholeskyQR2 is all BLAS-3; when a Cholesky fails (a near rank-deficient panel, where the §4.2
// flags need a real R) worker 0 runs Householder (dgeqrf + dorgqr) on the whole panel between
// two barriers. Every chunk's arithmetic and the order of every sum are fixed by the shapes, so
// the result is bitwise the same for any number of workers (and for a chain of a batch, which
// runs on one worker).

// Spin briefly, then sleep: the team's partner may be descheduled on a loaded machine, and
// gsa_fast's threads never spin long (parallel.hpp).
class TeamBarrier {
 public:
  explicit TeamBarrier(int n) : n_(n) {}
  void wait() {
    if (n_ <= 1) return;
    std::unique_lock<std::mutex> lk(mu_);
    const uint64_t g = gen_.load(std::memory_order_relaxed);
    if (++count_ == n_) {
      count_ = 0;
      gen_.store(g + 1, std::memory_order_release);
      lk.unlock();
      cv_.notify_all();
      return;
    }
    lk.unlock();
    for (int i = 0; i < kSpin; ++i) {
      if (gen_.load(std::memory_order_acquire) != g) return;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    lk.lock();
    cv_.wait(lk, [&] { return gen_.load(std::memory_order_acquire) != g; });
  }

 private:
  static constexpr int kSpin = 2000;  // some tens of µs of pause instructions
  const int n_;
  int count_ = 0;
  std::atomic<uint64_t> gen_{0};
  std::mutex mu_;
  std::condition_variable cv_;
};

// float64 rows of one chunk: about one L2. 1 and 2 MB ran alike; 512 kB was 8% and 256 kB 17%
// slower (more, smaller dgemm calls), measured side by side on 1024² float32 factors, k = 64.
// With the fused GEMM, 512 and 256 kB cost 3% and 6% more CPU time than 1 MB (single worker).
constexpr int64_t kScanPanelBytes = 1024 * 1024;

// One CholeskyQR pass suffices when κ₂(R₁) ≤ this bound: its R is then off by about κ²u (here
// ≤ 256u ≈ 3e-14 relative) and, since Q = Y R₁⁻¹ is never formed, the next step's R absorbs the
// error (the products of the R factors telescope), so it does not accumulate along the chain.
// Above it, a second pass (CholeskyQR2) makes R as accurate as Householder's.
constexpr double kOnePassKappa = 16.0;

// Rows per chunk for a factor with `cols` columns (a multiple of 8).
int64_t scan_chunk_rows(int64_t cols) {
  const int64_t r = kScanPanelBytes / (8 * std::max<int64_t>(1, cols));
  return std::max<int64_t>(8, std::min<int64_t>(512, r / 8 * 8));
}

GSA_CLONES("avx2")
void widen_rows(const float* src, int64_t rs, int64_t nr, int64_t cols, double* dst) {
  for (int64_t i = 0; i < nr; ++i) {
    const float* s = src + i * rs;
    double* d = dst + i * cols;
    for (int64_t j = 0; j < cols; ++j) d[j] = (double)s[j];
  }
}

// The panels are stored transposed: Yᵀ is k × m, column-major (ld k), so the k values of one row
// of Y are contiguous and a chunk of rows is one contiguous block. (dgemm with the small k as its
// M dimension also ran ~13% faster than the row-panel orientation here at these sizes.)

// Yᵀ[:, r0 : r0+nr] (k × nr, ld k) = (M[r0 : r0+nr, :] · Q)ᵀ = Qᵀ · M[r0 : r0+nr, :]ᵀ, float64;
// Qt = Qᵀ is k × cols (ld k). BLAS reads float64 factors with a unit stride directly; otherwise
// the rows are converted into buf (nr·cols doubles) first.
void gemm_rows_f64(const FactorRef& M, int64_t r0, int nr, const double* Qt, int k, double* Yt,
                   double* buf) {
  const int n = (int)M.cols;
  const double one = 1.0, zero = 0.0;
  double* C = Yt + r0 * k;
  if (!M.f32 && M.cs == 1 && M.rs >= std::max<int64_t>(1, M.cols)) {
    const int ldb = (int)M.rs;  // rows r0.. as a column-major cols × nr matrix
    scipy_dgemm_("N", "N", &k, &nr, &n, &one, Qt, &k,
                 static_cast<const double*>(M.data) + r0 * M.rs, &ldb, &zero, C, &k, 1, 1);
  } else if (!M.f32 && M.rs == 1 && M.cs >= std::max<int64_t>(1, M.rows)) {
    const int ldb = (int)M.cs;  // an nr × cols column-major block: transposed
    scipy_dgemm_("N", "T", &k, &nr, &n, &one, Qt, &k, static_cast<const double*>(M.data) + r0,
                 &ldb, &zero, C, &k, 1, 1);
  } else if (M.rs == 1 && M.cs != 1) {  // column-major storage: an nr × cols block, ld nr
    for (int64_t j = 0; j < M.cols; ++j)
      for (int64_t i = 0; i < nr; ++i) buf[i + j * nr] = elem(M, r0 + i, j);
    scipy_dgemm_("N", "T", &k, &nr, &n, &one, Qt, &k, buf, &nr, &zero, C, &k, 1, 1);
  } else {  // rows: a column-major cols × nr block (ld cols)
    if (M.f32 && M.cs == 1) {
      widen_rows(static_cast<const float*>(M.data) + r0 * M.rs, M.rs, nr, M.cols, buf);
    } else {
      for (int64_t i = 0; i < nr; ++i)
        for (int64_t j = 0; j < M.cols; ++j) buf[i * M.cols + j] = elem(M, r0 + i, j);
    }
    scipy_dgemm_("N", "N", &k, &nr, &n, &one, Qt, &k, buf, &n, &zero, C, &k, 1, 1);
  }
}

// float32 panel: Yᵀ[:, r0 : r0+nr] = double(Q32ᵀ · M[r0 : r0+nr, :]ᵀ) by sgemm into y32 (k × nr);
// M is float32 with a unit stride (checked by the caller).
void gemm_rows_f32(const FactorRef& M, int64_t r0, int nr, const float* Qt, int k, double* Yt,
                   float* y32) {
  const int n = (int)M.cols;
  const float one = 1.0f, zero = 0.0f;
  const float* a = static_cast<const float*>(M.data);
  if (M.cs == 1) {
    const int ldb = (int)M.rs;
    scipy_sgemm_("N", "N", &k, &nr, &n, &one, Qt, &k, a + r0 * M.rs, &ldb, &zero, y32, &k, 1, 1);
  } else {
    const int ldb = (int)M.cs;
    scipy_sgemm_("N", "T", &k, &nr, &n, &one, Qt, &k, a + r0, &ldb, &zero, y32, &k, 1, 1);
  }
  double* C = Yt + r0 * k;
  for (int64_t i = 0; i < (int64_t)k * nr; ++i) C[i] = (double)y32[i];
}

#include "depth_gemm.inl"

// The fused float32 × float64 GEMM (depth_gemm.inl) replaces widen-then-dgemm for float32
// factors where it has a SIMD kernel (x86 with AVX2+FMA or AVX-512F). Elsewhere its portable
// kernel is correct but unmeasured against BLAS's tuned dgemm (and on x86 without FMA, std::fma
// runs in software), so the scan keeps the dgemm route there.
bool scan_fused_gemm() { return scan_isa() != ScanIsa::kScalar; }

struct ScanWorker {
  std::vector<double> buf, G, R1, R2, Rp, Rpi, rd, QH, ap;
  std::vector<float> y32;
};

class ChainScan {
 public:
  ChainScan(const FactorRef* f, const uint8_t* const* gates, int64_t L, int64_t k, bool panel_f32,
            double tau, double* out, int team)
      : f_(f), gates_(gates), L_(L), k_(k), f32_(panel_f32), tau_(tau), out_(out), team_(team),
        bar_(team) {
    int64_t nmax = f[0].cols, cmax = 1, bufmax = 1, apmax = 1;
    for (int64_t l = 0; l < L; ++l) {
      nmax = std::max(nmax, f[l].rows);
      const int64_t rc = scan_chunk_rows(f[l].cols);
      cmax = std::max(cmax, (f[l].rows + rc - 1) / rc);
      if (!panel_f32 && f[l].f32 && scan_fused_gemm()) {
        fused_ = true;
        apmax = std::max(apmax, packed_strip_size(std::min(rc, f[l].rows)));
      } else {
        bufmax = std::max(bufmax, std::min(rc, f[l].rows) * f[l].cols);
      }
      qw_.reserve((int)f[l].rows, (int)k);  // sized once: no allocation inside the team
    }
    for (auto& p : P_) p.assign((size_t)(nmax * k), 0.0);
    for (auto& g : Gc_) g.resize((size_t)(cmax * k * k));
    if (f32_)
      for (auto& q : Q32_) q.assign((size_t)(nmax * k), 0.0f);
    for (int64_t j = 0; j < k; ++j) {  // Q_0ᵀ = [I_k 0] (the input of step 0: P_[1], ld k)
      P_[1][(size_t)(j + j * k)] = 1.0;
      if (f32_) Q32_[1][(size_t)(j + j * k)] = 1.0f;
    }
    if (fused_) {  // Q packed in NR-column micro-panels, alternating like P_
      nr_ = scan_panel_nr(scan_isa());
      for (auto& q : QP_) q.assign((size_t)packed_q_size(nmax, k, nr_), 0.0);
      pack_q_rows(P_[1].data(), k, f[0].cols, 0, f[0].cols, nr_, QP_[1].data());
    }
    ws_.resize((size_t)team);
    for (auto& w : ws_) {
      w.buf.resize((size_t)bufmax);
      if (fused_) w.ap.resize((size_t)apmax);
      w.G.resize((size_t)(k * k));
      w.R1.resize((size_t)(k * k));
      w.R2.resize((size_t)(k * k));
      w.Rp.resize((size_t)(k * k));
      w.Rpi.resize((size_t)(k * k));
      w.rd.resize((size_t)k);
      if (f32_) w.y32.resize((size_t)(std::min<int64_t>(nmax, scan_chunk_rows(1)) * k));
    }
    ws_[0].QH.resize((size_t)(nmax * k));  // worker 0: the column-major panel of a Householder QR
    c_.assign((size_t)k, 0.0);
    rd_.resize((size_t)k);
  }

  void run() {
    if (team_ <= 1) return work(0);
    std::vector<std::thread> pool;
    pool.reserve((size_t)team_ - 1);
    for (int w = 1; w < team_; ++w) pool.emplace_back([this, w] { work(w); });
    work(0);
    for (auto& t : pool) t.join();
  }

 private:
  enum Qr { kChol, kHouse1, kHouse2, kNonFinite };

  static void to_f32(const double* y, int64_t len, float* q) {
    for (int64_t i = 0; i < len; ++i) q[i] = (float)y[i];
  }

  // Reduces the chunk Grams of one phase (upper triangle, chunk order) into g; its trace.
  double reduce(const std::vector<double>& gc, int64_t C, double* g) const {
    const int64_t k = k_;
    for (int64_t j = 0; j < k; ++j)
      for (int64_t i = 0; i <= j; ++i) g[i + j * k] = gc[(size_t)(i + j * k)];
    for (int64_t c = 1; c < C; ++c) {
      const double* s = gc.data() + c * k * k;
      for (int64_t j = 0; j < k; ++j)
        for (int64_t i = 0; i <= j; ++i) g[i + j * k] += s[i + j * k];
    }
    double tr = 0.0;
    for (int64_t j = 0; j < k; ++j) tr += g[j + j * k];
    return tr;
  }

  // Claims the next chunk of phase `phase` (chunks handed out dynamically: a descheduled worker
  // leaves its share to the others; which worker computes a chunk does not change its bits).
  int64_t claim(int64_t phase) { return next_[phase % 3].fetch_add(1, std::memory_order_relaxed); }
  void begin_phase(int w, int64_t phase) {  // counter of phase+1 is idle now (ring of three)
    if (w == 0) next_[(phase + 1) % 3].store(0, std::memory_order_relaxed);
  }

  // inv = R⁻¹ (k × k, upper triangular R; one dtrsm on the identity).
  void invert_upper(const double* R, double* inv) const {
    const int k = (int)k_;
    std::fill(inv, inv + (size_t)k * k, 0.0);
    for (int j = 0; j < k; ++j) inv[j + (size_t)j * k] = 1.0;
    const double one = 1.0;
    scipy_dtrsm_("L", "U", "N", "N", &k, &k, &one, R, &k, inv, &k, 1, 1, 1, 1);
  }

  // κ₂(R) ≤ sqrt(‖R‖₁‖R‖_∞‖R⁻¹‖₁‖R⁻¹‖_∞) (‖X‖₂² ≤ ‖X‖₁‖X‖_∞), R upper triangular k×k; inv: R⁻¹
  // on return.
  double kappa_bound(const double* R, double* inv) const {
    const int k = (int)k_;
    invert_upper(R, inv);
    auto norms = [k](const double* X, double& n1, double& ninf) {
      std::vector<double> row((size_t)k, 0.0);
      n1 = 0.0;
      for (int j = 0; j < k; ++j) {
        double col = 0.0;
        for (int i = 0; i <= j; ++i) {
          const double a = std::fabs(X[i + (size_t)j * k]);
          col += a;
          row[(size_t)i] += a;
        }
        n1 = std::max(n1, col);
      }
      ninf = *std::max_element(row.begin(), row.end());
    };
    double a1, ai, b1, bi;
    norms(R, a1, ai);
    norms(inv, b1, bi);
    return std::sqrt(a1 * ai) * std::sqrt(b1 * bi);
  }

  void work(int w) {
    ScanWorker& s = ws_[(size_t)w];
    const int k = (int)k_;
    bool pending = false;  // s.Rp: the previous step's last R factor, still to be applied
    int64_t phase = 0;
    for (int64_t l = 0; l < L_; ++l) {
      const FactorRef& M = f_[l];
      const int64_t rc = scan_chunk_rows(M.cols), C = (M.rows + rc - 1) / rc;
      const double* Q = P_[(l + 1) & 1].data();  // Qᵀ (k × cols) and Yᵀ (k × rows), ld k
      double* Y = P_[l & 1].data();
      const float* Q32in = f32_ ? Q32_[(l + 1) & 1].data() : nullptr;
      float* Q32out = f32_ ? Q32_[l & 1].data() : nullptr;
      const uint8_t* gate = gates_ ? gates_[l] : nullptr;
      const double one = 1.0, zero = 0.0;
      // phase A: Y = D M Q Rp⁻¹, chunk Grams
      begin_phase(w, phase);
      for (int64_t c; (c = claim(phase)) < C;) {
        const int64_t r0 = c * rc;
        const int nr = (int)std::min(rc, M.rows - r0);
        double* Yc = Y + r0 * k;  // rows r0 .. r0+nr of Y: one contiguous k × nr block of Yᵀ
        // the fused route multiplies by Rp⁻¹ (dtrmm in place) instead of solving with Rp (dtrsm
        // at these sizes runs at a third of dgemm's speed, dtrmm at 1.5×)
        const bool fused = fused_ && M.f32, inv = fused && pending;
        if (f32_)
          gemm_rows_f32(M, r0, nr, Q32in, k, Y, s.y32.data());
        else if (fused)
          gemm_f32_f64(static_cast<const float*>(M.data) + r0 * M.rs, M.rs, M.cs, nr, M.cols,
                       QP_[(l + 1) & 1].data(), k, Yc, s.ap.data(), scan_isa());
        else
          gemm_rows_f64(M, r0, nr, Q, k, Y, s.buf.data());
        if (gate)
          for (int i = 0; i < nr; ++i)
            if (!gate[r0 + i]) std::fill(Yc + (int64_t)i * k, Yc + (int64_t)(i + 1) * k, 0.0);
        if (inv)  // Yᵀ ← Rp⁻ᵀ Yᵀ (Rp⁻¹ upper triangular)
          scipy_dtrmm_("L", "U", "T", "N", &k, &nr, &one, s.Rpi.data(), &k, Yc, &k, 1, 1, 1, 1);
        else if (pending)  // Y ← Y Rp⁻¹, i.e. Yᵀ ← Rp⁻ᵀ Yᵀ
          scipy_dtrsm_("L", "U", "T", "N", &k, &nr, &one, s.Rp.data(), &k, Yc, &k, 1, 1, 1, 1);
        scipy_dsyrk_("U", "N", &k, &nr, &one, Yc, &k, &zero, Gc_[phase & 1].data() + c * k * k, &k,
                     1, 1);
        if (f32_) to_f32(Yc, (int64_t)k * nr, Q32out + r0 * k);
        if (fused_) pack_q_rows(Y, k, M.rows, r0, nr, nr_, QP_[l & 1].data());
      }
      bar_.wait();
      // every worker: R₁ = chol(G)
      Qr how = kChol;
      const double tr = reduce(Gc_[phase & 1], C, s.R1.data());
      ++phase;
      double fro = std::sqrt(tr);
      if (!std::isfinite(tr)) {
        how = kNonFinite;  // NaN/Inf, or a Gram that overflows: worker 0 decides on the panel
      } else {
        int info = 0;
        scipy_dpotrf_("U", &k, s.R1.data(), &k, &info, 1);
        double mx = 0.0, mn = INFINITY;
        for (int j = 0; j < k; ++j) {
          const double r = std::fabs(s.R1[(size_t)(j + j * k)]);
          mx = std::max(mx, r);
          mn = std::min(mn, r);
          s.rd[(size_t)j] = r;
        }
        // κ²u ≫ 1e-8: two passes would not restore orthogonality
        if (info != 0 || !(mn >= 1e-4 * mx)) how = kHouse1;
      }
      if (how == kChol && !(kappa_bound(s.R1.data(), s.G.data()) <= kOnePassKappa)) {
        // second pass: Y ← Y R₁⁻¹, R₂ = chol((YR₁⁻¹)ᵀ(YR₁⁻¹)), |R_jj| = R₁_jj·R₂_jj
        begin_phase(w, phase);
        for (int64_t c; (c = claim(phase)) < C;) {
          const int64_t r0 = c * rc;
          const int nr = (int)std::min(rc, M.rows - r0);
          double* Yc = Y + r0 * k;
          scipy_dtrsm_("L", "U", "T", "N", &k, &nr, &one, s.R1.data(), &k, Yc, &k, 1, 1, 1, 1);
          scipy_dsyrk_("U", "N", &k, &nr, &one, Yc, &k, &zero, Gc_[phase & 1].data() + c * k * k,
                       &k, 1, 1);
          if (f32_) to_f32(Yc, (int64_t)k * nr, Q32out + r0 * k);
          if (fused_) pack_q_rows(Y, k, M.rows, r0, nr, nr_, QP_[l & 1].data());
        }
        bar_.wait();
        reduce(Gc_[phase & 1], C, s.R2.data());
        ++phase;
        int info = 0;
        scipy_dpotrf_("U", &k, s.R2.data(), &k, &info, 1);
        bool ok = info == 0;
        for (int j = 0; j < k && ok; ++j) ok = std::isfinite(s.R2[(size_t)(j + j * k)]);
        if (ok) {
          for (int j = 0; j < k; ++j) s.rd[(size_t)j] *= std::fabs(s.R2[(size_t)(j + j * k)]);
          std::swap(s.R2, s.Rp);
          if (fused_) invert_upper(s.Rp.data(), s.Rpi.data());
          pending = true;
        } else {
          how = kHouse2;  // Y holds Y R₁⁻¹: Householder on it, |R_jj| = |Rh_jj|·R₁_jj
        }
      } else if (how == kChol) {  // one pass: Q = Y R₁⁻¹ stays implicit (R₁ applied next step)
        std::swap(s.R1, s.Rp);
        std::swap(s.G, s.Rpi);  // R₁⁻¹, from kappa_bound
        pending = true;
      }
      if (how != kChol) {
        if (w == 0) householder(l, how, fro, s);
        pending = false;
        bar_.wait();
        if (stop_) return;
        fro = fro_;
      }
      if (w == 0) record(l, how == kChol ? s.rd.data() : rd_.data(), fro);
    }
  }

  // Worker 0, between barriers: the Householder QR of the whole panel of step l (Q into Y).
  void householder(int64_t l, Qr how, double fro, ScanWorker& s) {
    const int m = (int)f_[l].rows, k = (int)k_;
    double* Yt = P_[l & 1].data();  // k × m (ld k)
    double* Y = s.QH.data();        // m × k (ld m)
    fro_ = fro;
    if (how == kNonFinite) fro_ = frob(Yt, (int64_t)m * k);
    int info = 0;
    if (std::isfinite(fro_)) {
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < k; ++j) Y[i + j * m] = Yt[j + i * k];
      scipy_dgeqrf_(&m, &k, Y, &m, qw_.tau.data(), qw_.work.data(), &qw_.lwork, &info);
    }
    if (!std::isfinite(fro_) || info != 0) {  // NaN/Inf in a factor: the rest of the chain is NaN
      for (int64_t r = l; r < L_; ++r)
        for (int64_t j = 0; j < k_; ++j) out_[r * k_ + j] = kNaN;
      stop_ = true;
      return;
    }
    for (int j = 0; j < k; ++j)
      rd_[(size_t)j] = std::fabs(Y[j + (int64_t)j * m]) * (how == kHouse2 ? s.rd[(size_t)j] : 1.0);
    scipy_dorgqr_(&m, &k, &k, Y, &m, qw_.tau.data(), qw_.work.data(), &qw_.lwork, &info);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < k; ++j) Yt[j + i * k] = Y[i + j * m];
    if (f32_) to_f32(Yt, (int64_t)m * k, Q32_[l & 1].data());
    if (fused_) pack_q_rows(Yt, k, m, 0, m, nr_, QP_[l & 1].data());
  }

  // Worker 0: cumulative logs of step l with the §4.2 masks.
  void record(int64_t l, const double* rd, double fro) {
    const uint8_t* gate = gates_ ? gates_[l] : nullptr;
    if (gate) {
      int64_t ones = 0;
      for (int64_t i = 0; i < f_[l].rows; ++i) ones += gate[i] ? 1 : 0;
      rank_ = std::min(rank_, ones);
    }
    for (int64_t j = 0; j < std::min(rank_, k_); ++j) {
      const double rjj = rd[j];
      if (!(rjj > tau_ * fro)) {
        rank_ = j;
        break;
      }
      c_[(size_t)j] += std::log(rjj);
    }
    for (int64_t j = rank_; j < k_; ++j) c_[(size_t)j] = kNegInf;
    for (int64_t j = 0; j < k_; ++j) out_[l * k_ + j] = c_[(size_t)j];
  }

  const FactorRef* f_;
  const uint8_t* const* gates_;
  const int64_t L_, k_;
  const bool f32_;
  const double tau_;
  double* const out_;
  const int team_;
  TeamBarrier bar_;
  std::atomic<int64_t> next_[3] = {{0}, {0}, {0}};
  std::vector<double> P_[2], Gc_[2];
  std::vector<float> Q32_[2];  // float32 copies of the panels (panel_f32), alternating like P_
  bool fused_ = false;         // float32 factors through gemm_f32_f64 (depth_gemm.inl)
  int nr_ = 8;                 // its micro-panel width
  std::vector<double> QP_[2];  // the panels packed for it, alternating like P_
  std::vector<ScanWorker> ws_;
  QrWork qw_;                     // worker 0's Householder workspace
  std::vector<double> c_, rd_;    // worker 0: cumulative logs, Householder |R_jj|
  int64_t rank_ = std::numeric_limits<int64_t>::max();  // columns [rank_, k) masked from now on
  double fro_ = 0.0;
  bool stop_ = false;
};

// Workers for one chain: enough that each gets about 4 MF of GEMM per step (below that the two
// barriers of a step cost more than they save), at most one per chunk.
int scan_team_size(const FactorRef* f, int64_t L, int64_t k, int nthreads) {
  int64_t work = 0, chunks = 1;
  for (int64_t l = 0; l < L; ++l) {
    work = std::max(work, 2 * f[l].rows * f[l].cols * k);
    chunks = std::max(chunks, (f[l].rows + scan_chunk_rows(f[l].cols) - 1) / scan_chunk_rows(f[l].cols));
  }
  const int64_t by_work = std::max<int64_t>(1, work / (4 << 20));
  return (int)std::max<int64_t>(1, std::min<int64_t>({(int64_t)nthreads, by_work, chunks}));
}
