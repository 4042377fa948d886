// Energy measure, tails, truncation ranks, entropy and radial functional of a batch of spectra
// (spec §8.1, §4.2, §4.4). See kernels/energy.hpp for the contract.
//
// Per spectrum, one fused backward pass over σ (assumed sorted descending) checks validity and
// sortedness, squares σ·2^-e (e the exponent of σ_1: exact scaling, so no overflow/underflow of
// σ² changes a ratio) and accumulates Neumaier-compensated suffix sums S(r) = Σ_{k>r} σ_k² into a
// per-worker workspace. T(r) = S(r)/S(0) is then accurate to a few ulp *relative to T(r)* even for
// tiny tails (never 1 − prefix). A spectrum that is not descending is copied into the workspace,
// reversed (ascending) or sorted, and passed again. The caller's batch is never copied.
#include "gsa_fast/kernels/energy.hpp"

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <vector>

#include "gsa_fast/math/energy.hpp"
#include "gsa_fast/parallel.hpp"
#include "gsa_fast/simd.hpp"

namespace gsa {
namespace cpu {
namespace {

enum PassStatus { kOk = 0, kUnsorted = 1, kBad = 2 };

struct SpecSums {
  int64_t nnz = 0;     // number of σ > 0
  double scale = 1.0;  // power of two applied before squaring
  double top = 0.0;    // (σ_1·scale)²
};

// ws[r] = Σ_{k≥r} (σ_k·scale)² for r = 0..q (0-based k, so ws[r] is S(r) of spec §8.1), made
// nonincreasing in r exactly. get(k) is the k-th stored value as double.
template <class Get>
int fused_pass(const Get& get, int64_t q, double vmax, double* ws, SpecSums& sp) {
  ws[q] = 0.0;
  sp = SpecSums{};
  if (q == 0) return kOk;
  const double x0 = get(0);
  if (!math::valid_sigma(x0, vmax)) return kBad;  // NaN, Inf or negative σ_1
  const double scale = math::pow2_scale(x0);
  math::KahanSum acc;
  double prev = 0.0, best = 0.0;
  int64_t nnz = 0;
  for (int64_t j = q - 1; j >= 0; --j) {
    const double v = get(j);
    // Descending storage means v ≥ every later value; prev starts at 0 so a negative v fails too.
    if (!(v >= prev)) return (v >= 0.0) ? kUnsorted : kBad;
    prev = v;
    nnz += (v > 0.0);
    const double u = v * scale;
    acc.add(u * u);
    double t = acc.value();
    if (t < best) t = best;  // guard the monotonicity the binary search relies on
    best = t;
    ws[j] = t;
  }
  sp.nnz = nnz;
  sp.scale = scale;
  sp.top = (x0 * scale) * (x0 * scale);
  return kOk;
}

// rank_count's whole job: count σ > tol and validate (0 ≤ σ ≤ max finite: false for NaN, ±Inf
// and negatives) in one sweep. Counts are exact integers in any order, so the loop runs 8 lanes
// wide (two 4-double vectors; AVX2 where the CPU has it, chosen at load time): comparisons give
// −1/0 per lane, subtracted into 64-bit counters. Returns the number of valid entries.
typedef long long v4l __attribute__((vector_size(32)));

GSA_CLONES("avx2")
int64_t count_above(const double* x, int64_t q, double tol, double vmax, int64_t* above) {
  const v4d t = {tol, tol, tol, tol}, z = {0.0, 0.0, 0.0, 0.0}, m = {vmax, vmax, vmax, vmax};
  v4l a0 = {0, 0, 0, 0}, a1 = a0, g0 = a0, g1 = a0;
  int64_t k = 0;
  for (; k + 8 <= q; k += 8) {
    v4d v0, v1;
    load4(v0, x + k);
    load4(v1, x + k + 4);
    a0 -= (v0 > t);
    a1 -= (v1 > t);
    g0 -= (v0 >= z) & (v0 <= m);
    g1 -= (v1 >= z) & (v1 <= m);
  }
  const v4l a = a0 + a1, g = g0 + g1;
  int64_t na = a[0] + a[1] + a[2] + a[3], ng = g[0] + g[1] + g[2] + g[3];
  for (; k < q; ++k) {
    const double v = x[k];
    ng += (v >= 0.0) & (v <= vmax);
    na += (v > tol);
  }
  *above = na;
  return ng;
}

template <class T>
int64_t count_above(const T* x, int64_t q, double tol, double vmax, int64_t* above) {
  int64_t good = 0, na = 0;
  for (int64_t k = 0; k < q; ++k) {
    const double v = (double)x[k];
    good += (v >= 0.0) & (v <= vmax);  // false for NaN, ±Inf, negatives
    na += (v > tol) ? 1 : 0;
  }
  *above = na;
  return good;
}

bool needs_order(const EnergyRequest& r) { return r.ranks_eps || r.tails || r.energy; }

// Entropy, radial functional and rank need no order. For a spectrum that is not sorted (either
// way), validate and find σ_1 in one pass, then sum the other squares (compensated; all terms
// ≥ 0, so ~2u relative in any order) in a second, instead of sorting.
// Returns false for an invalid spectrum.
template <class T>
bool unordered_outputs(int64_t i, const T* x, int64_t q, double vmax, const EnergyRequest& r) {
  int64_t nbad = 0, above = 0;
  const double tol = r.tol;
  if (!r.entropy && !r.radial) {  // rank only: one branch-free counting pass
    if (count_above(x, q, tol, vmax, &above) != q) return false;
    if (r.rank) r.rank[i] = above;  // (nothing requested at all: validation only)
    return true;
  }
  double best = 0.0;
  int64_t imax = 0, nnz = 0;
  for (int64_t k = 0; k < q; ++k) {
    const double v = (double)x[k];
    nbad += !math::valid_sigma(v, vmax);
    if (v > best) {
      best = v;
      imax = k;
    }
    nnz += (v > 0.0);
    above += (v > tol);
  }
  if (nbad) return false;
  if (r.rank) r.rank[i] = above;
  const double scale = math::pow2_scale(best);
  const double top = (best * scale) * (best * scale);
  math::KahanSum acc;
  for (int64_t k = 0; k < q; ++k) {
    const double u = (double)x[k] * scale;
    if (k != imax) acc.add(u * u);
  }
  const double rest = acc.value();  // Σ_{k≥2} σ_k² (scaled)
  acc.add(top);
  const double tot = acc.value();
  if (r.entropy) {
    double h = 0.0;
    if (tot > 0.0) {
      math::KahanSum hacc;
      hacc.add(math::entropy_dominant(top, rest, tot));
      for (int64_t k = 0; k < q; ++k) {
        const double u = (double)x[k] * scale;
        if (k != imax && u > 0.0) hacc.add(math::entropy_term((u * u) / tot));
      }
      h = hacc.value();
    }
    r.entropy[i] = h;
  }
  if (r.radial) {
    const double d = r.radial_d ? (double)r.radial_d[i] : (double)nnz;
    r.radial[i] = math::radial_from_sums(d, top, rest, tot);
  }
  return true;
}

// smallest r in [1, q] with ws[r]/tot ≤ e (exists: ws[q] = 0); T computed exactly as the
// reference does (quotient, then compare) so both agree away from ties.
int64_t first_below(const double* ws, int64_t q, double tot, double e) {
  int64_t lo = 1, hi = q;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (ws[mid] / tot <= e) hi = mid; else lo = mid + 1;
  }
  return lo;
}

template <class Get>
void write_outputs(int64_t i, const Get& get, int64_t q, const double* ws, const SpecSums& sp,
                   const EnergyRequest& r) {
  const double tot = ws[0];
  if (r.ranks_eps) {
    int64_t* out = r.ranks_eps + i * r.neps;
    for (int64_t j = 0; j < r.neps; ++j) {
      const double e = r.eps[j];
      if (!(tot > 0.0)) out[j] = 0;             // empty or all-zero spectrum
      else if (e == 0.0) out[j] = sp.nnz;       // ε = 0 gives the rank (§8.1 convention)
      else out[j] = std::min(first_below(ws, q, tot, e), sp.nnz);
    }
  }
  if (r.tails) {
    double* out = r.tails + r.tails_start[i];
    if (tot > 0.0) {
      out[0] = 1.0;
      for (int64_t k = 1; k <= q; ++k) out[k] = ws[k] / tot;
    } else {
      for (int64_t k = 0; k <= q; ++k) out[k] = 0.0;
    }
  }
  if (r.energy) {
    double* out = r.energy + r.energy_start[i];
    if (tot > 0.0) {
      for (int64_t k = 0; k < q; ++k) {
        const double u = get(k) * sp.scale;
        out[k] = std::min(1.0, (u * u) / tot);  // (guard: ν_1 ≤ 1 also after rounding)
      }
    } else {
      for (int64_t k = 0; k < q; ++k) out[k] = 0.0;
    }
  }
  if (r.entropy) {
    double h = 0.0;
    if (tot > 0.0) {
      math::KahanSum hacc;
      hacc.add(math::entropy_dominant(sp.top, ws[1], tot));
      for (int64_t k = 1; k < sp.nnz; ++k) {
        const double u = get(k) * sp.scale;
        hacc.add(math::entropy_term((u * u) / tot));
      }
      h = hacc.value();
    }
    r.entropy[i] = h;
  }
  if (r.radial) {
    const double d = r.radial_d ? (double)r.radial_d[i] : (double)sp.nnz;
    r.radial[i] = math::radial_from_sums(d, sp.top, ws[1], tot);
  }
  if (r.rank) {
    int64_t cnt = 0;
    if (r.tol == 0.0) {
      cnt = sp.nnz;
    } else {
      while (cnt < q && get(cnt) > r.tol) ++cnt;  // descending: stop at the first σ ≤ tol
    }
    r.rank[i] = cnt;
  }
}

// Sorts q nonnegative doubles (no −0, no NaN) ascending; returns a pointer to the sorted values,
// which is either a or tmp (room for q). cnt is scratch. The bit patterns of doubles ≥ +0 order
// like their values, so an adaptive MSD bucket pass on the key range [kmin, kmax] (about four
// buckets per value) leaves every value within its bucket's length of its place; one insertion
// pass then sorts exactly (few branch mispredictions: cheaper than per-bucket sorts). If some
// bucket is long (clustered data), buckets are sorted one by one instead, long ones with
// std::sort, so the worst case stays O(q log q).
// kmin, kmax: the smallest and largest bit pattern among a[0..q).
const double* sort_ascending(double* a, double* tmp, int64_t q, uint64_t kmin, uint64_t kmax,
                             std::vector<uint32_t>& cnt) {
  if (kmin == kmax) return a;  // all equal
  if (q < 64 || q >= (int64_t(1) << 31)) {  // small, or counts beyond uint32
    std::sort(a, a + q);
    return a;
  }
  int log_b = 6;  // about four buckets per value: most buckets hold 0 or 1 values
  while (log_b < 20 && (int64_t(1) << log_b) < 4 * q) ++log_b;
  const uint64_t span = kmax - kmin;
  int bits = 64 - __builtin_clzll(span);  // span < 2^bits
  const int shift = bits > log_b ? bits - log_b : 0;
  const size_t nb = (size_t)(span >> shift) + 1;
  cnt.assign(nb + 1, 0);
  for (int64_t k = 0; k < q; ++k) {
    uint64_t key;
    std::memcpy(&key, a + k, 8);
    ++cnt[((key - kmin) >> shift) + 1];
  }
  uint32_t longest = 0;
  for (size_t j = 1; j <= nb; ++j) {
    longest = std::max(longest, cnt[j]);
    cnt[j] += cnt[j - 1];  // cnt[j] = start of bucket j
  }
  for (int64_t k = 0; k < q; ++k) {
    uint64_t key;
    std::memcpy(&key, a + k, 8);
    tmp[cnt[(key - kmin) >> shift]++] = a[k];
  }
  if (longest <= 16) {  // values are at most 15 places from home: one insertion pass, O(16 q)
    for (int64_t i = 1; i < q; ++i) {
      const double v = tmp[i];
      int64_t h = i;
      while (h > 0 && tmp[h - 1] > v) {
        tmp[h] = tmp[h - 1];
        --h;
      }
      tmp[h] = v;
    }
    return tmp;
  }
  // now cnt[j] = end of bucket j; sort each bucket in place
  uint32_t begin = 0;
  for (size_t j = 0; j < nb; ++j) {
    const uint32_t end = cnt[j];
    if (end - begin > 32) {
      std::sort(tmp + begin, tmp + end);
    } else {
      for (uint32_t i = begin + 1; i < end; ++i) {
        const double v = tmp[i];
        uint32_t h = i;
        while (h > begin && tmp[h - 1] > v) {
          tmp[h] = tmp[h - 1];
          --h;
        }
        tmp[h] = v;
      }
    }
    begin = end;
  }
  return tmp;
}

template <class T>
Status run(const T* values, const int64_t* starts, const int64_t* lengths, int64_t n,
            const EnergyRequest& req, int nthreads) {
  const double vmax = (double)std::numeric_limits<T>::max();
  int64_t total = 0;
  for (int64_t i = 0; i < n; ++i) total += lengths[i];
  const int64_t avg = n > 0 ? std::max<int64_t>(1, total / n) : 1;
  const int64_t grain = std::min<int64_t>(4096, std::max<int64_t>(1, 32768 / avg));
  std::atomic<int64_t> first_bad{std::numeric_limits<int64_t>::max()};
  auto note_bad = [&](int64_t i) { atomic_min(first_bad, i); };
  const bool ordered = needs_order(req);

  struct Work {
    std::vector<double> ws, w;  // suffix sums, sorted copy (+ scratch)
    std::vector<uint32_t> cnt;  // bucket counts of the sort
  };
  parallel_for_ws(n, nthreads, grain, [] { return Work{}; }, [&](Work& work, int64_t lo, int64_t hi) {
    auto& ws = work.ws;
    auto& w = work.w;
    auto& cnt = work.cnt;
    for (int64_t i = lo; i < hi; ++i) {
      const T* x = values + starts[i];
      const int64_t q = lengths[i];
      if (!ordered && !req.entropy && !req.radial) {  // rank_count: no sums at all
        if (!unordered_outputs(i, x, q, vmax, req)) note_bad(i);
        continue;
      }
      if ((int64_t)ws.size() < q + 1) ws.resize(q + 1);
      SpecSums sp;
      auto get_x = [x](int64_t k) { return (double)x[k]; };
      const int st = fused_pass(get_x, q, vmax, ws.data(), sp);
      if (st == kOk) {
        write_outputs(i, get_x, q, ws.data(), sp, req);
        continue;
      }
      if (st == kBad) {
        note_bad(i);
        continue;
      }
      // Ascending (as eigvalsh gives): the same pass read backwards, still without a copy.
      auto get_rx = [x, q](int64_t k) { return (double)x[q - 1 - k]; };
      const int st2 = fused_pass(get_rx, q, vmax, ws.data(), sp);
      if (st2 == kOk) {
        write_outputs(i, get_rx, q, ws.data(), sp, req);
        continue;
      }
      if (st2 == kBad) {
        note_bad(i);
        continue;
      }
      if (!ordered) {  // entropy, m, rank of an unsorted spectrum: no sort needed
        if (!unordered_outputs(i, x, q, vmax, req)) note_bad(i);
        continue;
      }
      // Any order: validate while copying into the workspace, sort ascending, read backwards.
      if ((int64_t)w.size() < 2 * q) w.resize(2 * q);
      bool ok = true;
      uint64_t kmin = ~uint64_t(0), kmax = 0;
      for (int64_t k = 0; k < q; ++k) {
        const double v = (double)x[k] + 0.0;  // −0 → +0, so that bit patterns order like values
        ok &= (v >= 0.0) & (v <= vmax);
        w[k] = v;
        uint64_t key;
        std::memcpy(&key, &v, 8);
        kmin = std::min(kmin, key);
        kmax = std::max(kmax, key);
      }
      if (!ok) {
        note_bad(i);
        continue;
      }
      const double* pw = sort_ascending(w.data(), w.data() + q, q, kmin, kmax, cnt);
      auto get_w = [pw, q](int64_t k) { return pw[q - 1 - k]; };
      fused_pass(get_w, q, vmax, ws.data(), sp);  // sorted and valid: cannot fail
      write_outputs(i, get_w, q, ws.data(), sp, req);
    }
  });
  const int64_t b = first_bad.load();
  if (b == std::numeric_limits<int64_t>::max()) return Status{};
  return first_invalid(values + starts[b], lengths[b], b);  // what and where, for the message
}

}  // namespace

Status spectra_energy(const float* values, const int64_t* starts, const int64_t* lengths, int64_t n,
                       const EnergyRequest& req, int nthreads) {
  return run(values, starts, lengths, n, req, nthreads);
}

Status spectra_energy(const double* values, const int64_t* starts, const int64_t* lengths, int64_t n,
                       const EnergyRequest& req, int nthreads) {
  return run(values, starts, lengths, n, req, nthreads);
}

}  // namespace cpu
}  // namespace gsa
