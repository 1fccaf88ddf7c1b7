// all_gather_with_grad, all_reduce_with_grad, the view reordering into the global pair layout, and
// the distributed NT-Xent loss on the fused row kernels.
#include "dist/all_gather.h"

#include <vector>

#include "kernels/dispatch.h"
#include "kernels/nt_xent.h"
#include "kernels/ops.h"

namespace simclr {

namespace {

// [world * 2B, rest...] in rank order (each rank: B first views, then B second views) ->
// [2 * world * B, rest...] with all first views, then all second views.
Tensor views_to_pairs(const Tensor& gathered, int64_t world, int64_t b) {
  const std::vector<int64_t>& dims = gathered.shape().dims();
  std::vector<int64_t> split{world, 2, b};
  std::vector<int64_t> order{1, 0, 2};
  std::vector<int64_t> merged{2 * world * b};
  for (size_t i = 1; i < dims.size(); ++i) {
    split.push_back(dims[i]);
    order.push_back(static_cast<int64_t>(i) + 2);
    merged.push_back(dims[i]);
  }
  const Tensor swapped = permute(reshape(gathered, Shape(split)), order);
  return reshape(contiguous(swapped), Shape(merged));
}

void check_views(const Tensor& z_local, const char* op) {
  SIMCLR_CHECK(z_local.defined(), op, ": z_local is undefined");
  SIMCLR_CHECK(z_local.ndim() >= 1 && z_local.size(0) >= 2 && z_local.size(0) % 2 == 0, op,
               ": expected z_local with an even number (>= 2) of rows [view-1 rows; view-2 rows], "
               "got ",
               z_local.str());
}

// rows [0, a.size(0)) <- a, the rest <- b.
Tensor stack_rows(const Tensor& a, const Tensor& b) {
  std::vector<int64_t> dims = a.shape().dims();
  dims[0] += b.size(0);
  Tensor out = Tensor::empty(Shape(dims), a.dtype(), a.device());
  Tensor top = slice(out, 0, 0, a.size(0));
  Tensor bottom = slice(out, 0, a.size(0), dims[0]);
  copy_(top, a);
  copy_(bottom, b);
  return out;
}

}  // namespace

Tensor all_gather_with_grad(ProcessGroup& group, const Tensor& z_local) {
  SIMCLR_CHECK(z_local.defined() && z_local.ndim() >= 1,
               "all_gather_with_grad: expected a tensor with at least one dimension");
  Tensor out;
  {
    NoGradGuard no_grad;
    out = group.all_gather(z_local);
  }
  ProcessGroup* g = &group;  // must outlive the graph
  const int64_t rows = z_local.size(0);
  return detail::record(
      out, "all_gather_with_grad", {z_local}, {},
      [g, rows](Node&, const std::vector<Tensor>& grads) {
        NoGradGuard no_grad;
        // A copy: the incoming gradient may be shared with other nodes.
        Tensor total = clone(grads[0]);
        g->all_reduce_sum_(total);
        const int64_t start = g->rank() * rows;
        return std::vector<Tensor>{contiguous(slice(total, 0, start, start + rows))};
      });
}

Tensor all_reduce_with_grad(ProcessGroup& group, const Tensor& t) {
  SIMCLR_CHECK(t.defined(), "all_reduce_with_grad: the tensor is undefined");
  Tensor out;
  {
    NoGradGuard no_grad;
    out = clone(t.detach());
    group.all_reduce_sum_(out);
  }
  ProcessGroup* g = &group;  // must outlive the graph
  return detail::record(out, "all_reduce_with_grad", {t}, {},
                        [g](Node&, const std::vector<Tensor>& grads) {
                          NoGradGuard no_grad;
                          // A copy: the incoming gradient may be shared with other nodes.
                          Tensor total = clone(grads[0]);
                          g->all_reduce_sum_(total);
                          return std::vector<Tensor>{total};
                        });
}

Tensor gather_views(ProcessGroup& group, const Tensor& z_local) {
  check_views(z_local, "gather_views");
  return views_to_pairs(all_gather_with_grad(group, z_local), group.world_size(),
                        z_local.size(0) / 2);
}

DistributedNtXent distributed_nt_xent(ProcessGroup& group, const Tensor& z_local,
                                      double temperature, bool normalize) {
  const char* op = "distributed_nt_xent";
  check_views(z_local, op);
  SIMCLR_CHECK(z_local.ndim() == 2, op, ": expected z_local of shape [2B, D], got ", z_local.str());
  detail::check_floating(z_local, op);
  SIMCLR_CHECK(temperature > 0, op, ": expected a positive temperature, got ", temperature);

  const int64_t two_b = z_local.size(0), b = two_b / 2, world = group.world_size();
  const int64_t n = world * b, m = 2 * n;
  const int64_t first = group.rank() * b, second = n + group.rank() * b;

  const Tensor zn = normalize ? nt_xent_normalize(z_local) : z_local;
  Tensor z_global, lse, loss_value, global_loss;
  {
    NoGradGuard no_grad;
    z_global = views_to_pairs(group.all_gather(contiguous(zn.detach())), world, b);
    const NtXentRows r1 = nt_xent_rows_forward(z_global, first, b, temperature);
    const NtXentRows r2 = nt_xent_rows_forward(z_global, second, b, temperature);
    lse = views_to_pairs(group.all_gather(stack_rows(r1.lse, r2.lse)), world, b);
    const Tensor local_sum = add(r1.loss_sum(), r2.loss_sum());
    Tensor total = clone(local_sum);
    group.all_reduce_sum_(total);
    global_loss = mul(total, 1.0 / static_cast<double>(m));
    loss_value = mul(local_sum, 1.0 / static_cast<double>(two_b));
  }
  Tensor loss = detail::record(
      loss_value, op, {zn}, {z_global, lse}, [=](Node& node, const std::vector<Tensor>& grads) {
        NoGradGuard no_grad;
        const Tensor& zs = node.saved[0];
        const Tensor& all_lse = node.saved[1];
        // The gradient of sum_r loss_r = (sum over all m rows of loss_i) / 2B for this rank's
        // rows; the upstream gradient scales it on the device (no host read).
        const double scale = 1.0 / static_cast<double>(two_b);
        const Tensor g1 = nt_xent_rows_backward(zs, all_lse, first, b, temperature, scale);
        const Tensor g2 = nt_xent_rows_backward(zs, all_lse, second, b, temperature, scale);
        return std::vector<Tensor>{mul(stack_rows(g1, g2), to(grads[0], zs.dtype()))};
      });
  return {loss, global_loss};
}

}  // namespace simclr
