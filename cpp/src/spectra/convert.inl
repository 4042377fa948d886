// Section of cpp/src/spectra.cpp (storage formats, conversion to float64, finiteness scan, power-of-two scale, status merge): included inside its anonymous namespace, in order;
// not a separate translation unit. Moved verbatim from spectra.cpp.
// ---- storage formats --------------------------------------------------------------------------

inline double load(const void* base, int dtype, int64_t idx) {
  switch (dtype) {
    case kF64: return static_cast<const double*>(base)[idx];
    case kF32: return (double)static_cast<const float*>(base)[idx];
    case kF16: return math::f16_to_double(static_cast<const uint16_t*>(base)[idx]);
    default: return math::bf16_to_double(static_cast<const uint16_t*>(base)[idx]);
  }
}

inline size_t elem_size(int dtype) { return dtype == kF64 ? 8 : dtype == kF32 ? 4 : 2; }

template <class Src, class Conv>
inline double convert_row(const Src* src, int64_t w, double scale, double* dst, Conv conv) {
  double acc = 0.0;  // becomes NaN iff some element is NaN or ±Inf (x·0)
  for (int64_t j = 0; j < w; ++j) {
    const double v = conv(src[j]);
    dst[j] = v * scale;
    acc += v * 0.0;
  }
  return acc;
}

// dst (row-major p×w, leading dimension w) = scale · S[r0:r0+p, c0:c0+w]. False if non-finite.
bool convert_block(const MatrixRef& S, int64_t r0, int64_t p, int64_t c0, int64_t w, double scale,
                   double* dst) {
  double acc = 0.0;
  const char* base = static_cast<const char*>(S.data);
  const size_t es = elem_size(S.dtype);
  for (int64_t i = 0; i < p; ++i) {
    const char* row = base + ((r0 + i) * S.ld + c0) * (int64_t)es;
    double* d = dst + i * w;
    switch (S.dtype) {
      case kF64:
        acc += convert_row(reinterpret_cast<const double*>(row), w, scale, d, [](double x) { return x; });
        break;
      case kF32:
        acc += convert_row(reinterpret_cast<const float*>(row), w, scale, d,
                           [](float x) { return (double)x; });
        break;
      case kF16:
        acc += convert_row(reinterpret_cast<const uint16_t*>(row), w, scale, d,
                           [](uint16_t x) { return math::f16_to_double(x); });
        break;
      default:
        acc += convert_row(reinterpret_cast<const uint16_t*>(row), w, scale, d,
                           [](uint16_t x) { return math::bf16_to_double(x); });
    }
  }
  return acc == 0.0;
}

// One pass over S: finiteness and max |s_ij|.
bool scan(const MatrixRef& S, double* maxabs) {
  double mx = 0.0, acc = 0.0;
  for (int64_t i = 0; i < S.rows; ++i) {
    const int64_t off = i * S.ld;
    for (int64_t j = 0; j < S.cols; ++j) {
      const double v = load(S.data, S.dtype, off + j);
      acc += v * 0.0;
      mx = std::max(mx, std::fabs(v));
    }
  }
  *maxabs = mx;
  return acc == 0.0;
}

// Power-of-two scale: the one shared helper (gsa_fast/math/pow2.hpp).
using math::pow2_scale;

int to_int(int64_t v) { return (int)v; }

// Keeps the error of the lowest matrix index (the one Python names); st carries its index.
void keep_first(SpectraStatus& first, const SpectraStatus& st) {
  if (st.code && (!first.code || st.index < first.index)) first = st;
}
