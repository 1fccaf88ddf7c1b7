// Annotations shared by host and device code. Per-element math is written once as SIMCLR_HD
// functions so that the CPU reference and the CUDA kernel compute exactly the same thing.
#pragma once

#if defined(__CUDACC__)
#define SIMCLR_HD __host__ __device__
#define SIMCLR_HD_INLINE __host__ __device__ __forceinline__
#else
#define SIMCLR_HD
#define SIMCLR_HD_INLINE inline
#endif
