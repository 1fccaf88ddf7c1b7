// Direct f32 convolution for CPUs with AVX-512 (see conv2d_direct.cpp): no im2col buffer and no
// BLAS packing, with the output tile held in registers. kernels/cpu/conv2d.cpp calls it for the
// shapes it supports and keeps im2col + OpenBLAS for the rest (and for f64).
#pragma once

#include "kernels/backends.h"

namespace simclr::cpu {

// True when this CPU has AVX-512F, k is a multiple of 16 (the vector width) and the convolution
// is not a plain 1x1 (stride 1, no padding: one BLAS product with no im2col, which OpenBLAS runs
// faster at ResNet-50's 256 channels); any other r, s, c, stride, padding and dilation.
bool conv2d_direct_supported(const ConvShape& g);

// y [n, p, q, k] = conv(x [n, h, w, c], w [k, r, s, c]).
void conv2d_direct_forward(const ConvShape& g, const float* x, const float* w, float* y);

// grad_w [k, r, s, c] from x and grad_y [n, p, q, k] (written, not accumulated).
void conv2d_direct_backward_filter(const ConvShape& g, const float* x, const float* grad_y,
                                   float* grad_w);

}  // namespace simclr::cpu
