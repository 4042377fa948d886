// Run-time dispatched clones of hot loops (the build has no -march): GSA_CLONES("avx2") compiles
// the function for the named targets plus a default, picked at load time through an ifunc. Only
// where ifunc exists (x86-64 Linux, GCC); elsewhere the attribute is empty and the generic code
// is used.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define GSA_CLONES(targets) __attribute__((target_clones(targets, "default")))
#else
#define GSA_CLONES(targets)
#endif
