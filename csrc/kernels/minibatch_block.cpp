// One block of dense rows of a fused mini-batch epoch: the per-row work of
// the linear models' mini-batch loop, compiled per ISA so that the row
// kernels and the loss inline into it.
//
//   for each row i of the block, in order (after prefetching the row the
//   caller names for it):  m_i = dot(x_i, w) + b  (dot's fixed-order
//   partials),  r_i = sw_i·∂loss(y_i, m_i)/∂m;
//   resid_sum = Σ r_i and loss_sum = Σ sw_i·loss(y_i, m_i) + (m_i − m_i), in
//   row order (log_loss: the values of the block's rows computed together
//   after them, added in row order);  part = Σ r_i·x_i over the rows with
//   r_i ≠ 0, in row order (multiply then add: axpy).
// dtypes: f32, f64.  Guarantee: the same bits on every ISA path (the element
// definitions of dot, axpy and loss_defs.inc; no fused multiply-add).
// Bytes per element of a row: sizeof(T) from memory (the update reads the
// row again from L1); w and part stay in cache.
#include "row_kernels.hpp"

#include <cstddef>

namespace gd::GDCORE_ISA {

// this path's kernels (loss_values.cpp)
void log_loss_values_f32(const float* z, const float* e, float* out, int64_t n);
void log_loss_values_f64(const double* z, const double* e, double* out, int64_t n);

namespace {
#include "loss_defs.inc"
#include "prefetch.inc"

template <class T>
void minibatch_block_impl(detail::MinibatchBlock<T>& a) {
  constexpr int N = int(detail::kMinibatchBlockRows);
  const int64_t d = a.d;
  const T* X = a.X;
  const T* w = a.w;
  const T* sw = a.sample_weight;
  T* part = a.part;
  for (int64_t j = 0; j < d; ++j) part[j] = T(0);
  BlockLosses<T, N> losses{a.loss_kind, a.loss_param};
  T rsum = T(0);
  const int n = int(a.n_rows);
  // a row's margin, after prefetching the row named for it
  auto margin = [&](int at) {
    const int64_t q = a.prefetch[at];
    if (q >= 0) {
      prefetch_bytes(X + q * d, std::size_t(d) * sizeof(T));
      prefetch_targets(a.y, sw, q);
    }
    return dot_impl(X + a.rows[at] * d, w, d) + a.bias;
  };
  // float32 rows compute the next row's margin before this row's loss and
  // update, so that the two chains overlap (measured, three paired runs:
  // float32 1.02-1.09x faster; float64 log_loss 0.92x, so float64 does not).
  constexpr bool kAhead = sizeof(T) == 4;
  T m_next = kAhead && n > 0 ? margin(0) : T(0);
  for (int at = 0; at < n; ++at) {
    T m;
    if constexpr (kAhead) {
      m = m_next;
      if (at + 1 < n) m_next = margin(at + 1);
    } else {
      m = margin(at);
    }
    const int64_t r = a.rows[at];
    const T* x = X + r * d;
    const T ri = losses.row(at, a.y[r], m, sw != nullptr ? sw[r] : T(1));
    a.resid[at] = ri;
    rsum = rsum + ri;
    if (ri != T(0)) axpy_impl(part, x, d, ri);
  }
  a.resid_sum = rsum;
  a.loss_sum = losses.total(n, [](const T* z, const T* e, T* out, int k) {
    if constexpr (sizeof(T) == 4) log_loss_values_f32(z, e, out, k);
    else log_loss_values_f64(z, e, out, k);
  });
}

}  // namespace

void minibatch_block_f32(detail::MinibatchBlock<float>& a) { minibatch_block_impl(a); }
void minibatch_block_f64(detail::MinibatchBlock<double>& a) { minibatch_block_impl(a); }

}  // namespace gd::GDCORE_ISA
