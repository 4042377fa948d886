// Shared configuration for host (C++) and device (CUDA) code.
#pragma once

#if defined(__CUDACC__)
#define GSA_HD __host__ __device__ inline
#else
#define GSA_HD inline
#endif
