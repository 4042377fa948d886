// Run-time dispatched clones of hot loops (the build has no -march): GSA_CLONES("avx2") compiles
// the function for the named targets plus a default, picked at load time through an ifunc. Only
// where ifunc exists (x86-64 Linux, GCC); elsewhere the attribute is empty and the generic code
// is used.
#pragma once

#include <cstring>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define GSA_CLONES(targets) __attribute__((target_clones(targets, "default")))
#else
#define GSA_CLONES(targets)
#endif

namespace gsa {

// Four doubles as one GCC/Clang vector: the clones above compile its arithmetic to AVX2 (or to
// two SSE2 halves), with no -ffast-math needed. Unaligned loads and stores go through memcpy;
// arguments by reference keep 32-byte vectors out of the non-AVX calling convention.
typedef double v4d __attribute__((vector_size(32)));

inline void load4(v4d& v, const double* p) { std::memcpy(&v, p, sizeof v); }
inline void store4(double* p, const v4d& v) { std::memcpy(p, &v, sizeof v); }
// (v0 + v1) + (v2 + v3): the pairwise order every caller's scalar tail continues from.
inline double hsum4(const v4d& v) { return (v[0] + v[1]) + (v[2] + v[3]); }

}  // namespace gsa
