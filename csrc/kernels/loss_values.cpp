// log_loss values from the parts the fused loops keep per row.
//
//   log_loss_values(z, e, out): out_i = log(1 + exp(−z_i)) given e_i = exp(−|z_i|),
//   i.e. log1p(e_i) for z_i > 0 and −z_i + log1p(e_i) otherwise
//   (log_loss_value_from_parts in loss_defs.inc, the definition
//   gdcore.losses.log_loss.value uses).
// dtypes: f32, f64 (f32 computes its log1p in double).  Guarantee: the same
// bits as the element definition on every ISA path (no libm call, no
// fused multiply-add).  Bytes per element: reads z and e, writes out:
// 3 × sizeof(T) (the blocks are a fused loop's own, in cache).
#include "kernel_common.hpp"

namespace gd::GDCORE_ISA {
namespace {
#include "loss_defs.inc"

template <class T>
void log_loss_values_impl(const T* GDCORE_RESTRICT z, const T* GDCORE_RESTRICT e,
                          T* GDCORE_RESTRICT out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = log_loss_value_from_parts(z[i], e[i]);
}

}  // namespace

void log_loss_values_f32(const float* z, const float* e, float* out, int64_t n) {
  log_loss_values_impl(z, e, out, n);
}
void log_loss_values_f64(const double* z, const double* e, double* out, int64_t n) {
  log_loss_values_impl(z, e, out, n);
}

}  // namespace gd::GDCORE_ISA
