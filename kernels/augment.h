// SimCLR augmentation: the op that turns a batch of uint8 HWC images into two normalized NHWC
// views per image. The policy, the parameters and how they are drawn: kernels/augment_params.h.
#pragma once

#include <vector>

#include "core/tensor.h"
#include "kernels/augment_params.h"

namespace simclr {

// Two augmented views of each image of `images_u8` ([n, h, w, c], c = 1 or 3, any device) whose
// data-set indices are `indices_i64` ([n], same device): [2n, out_h, out_w, c] in `out_dtype`,
// view 0 of image k at row k and view 1 at row k + n.
Tensor augment(const Tensor& images_u8, const Tensor& indices_i64, const AugmentPolicy& policy,
               uint64_t seed, uint64_t epoch, DType out_dtype);

// The same with given parameters: params[r] makes output row r from image r % n (params.size() is
// a multiple of n). The policy's output size, blur kernel and normalization apply; its switches and
// probabilities do not (the parameters say what is applied). For tests and examples.
Tensor augment_with_params(const Tensor& images_u8, const std::vector<AugmentParams>& params,
                           const AugmentPolicy& policy, DType out_dtype);

}  // namespace simclr
