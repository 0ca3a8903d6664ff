// Adamax update — one fused pass (torch.optim.Adamax, single-tensor rule).
//
//   g = ±grad + wd·p
//   m = lerp(m, g, 1 − β1);  u = max(u·β2, |g| + eps)   (NaN propagates)
//   p = p + (−lr/(1 − β1ᵗ))·(m / u)
//
// dtypes: f32, f64.  Guarantee: identical bits on every ISA path and thread
// count.  Bytes per element: reads p, g, m, u; writes p, m, u: 7 × sizeof(T).
#include "kernel_common.hpp"

namespace gd::GDCORE_ISA {
namespace {

template <class T, bool Wd, bool SmallW>
void adamax_range(const detail::AdamaxCoeffs& c, const ParamSlot<T>& s, int64_t b,
                  int64_t e) {
  T* GDCORE_RESTRICT p = s.param;
  const T* GDCORE_RESTRICT g = s.grad;
  T* GDCORE_RESTRICT m = s.state[0];
  T* GDCORE_RESTRICT u = s.state[1];
  const T sign = T(c.grad_sign), wd = T(c.weight_decay), nclr = T(c.neg_clr);
  const T w = T(c.lerp_w), omw = T(1) - w, b2 = T(c.beta2), eps = T(c.eps);
  GDCORE_IVDEP
  for (int64_t i = b; i < e; ++i) {
    const T pi = p[i];
    T gi = g[i] * sign;
    if constexpr (Wd) gi = gi + wd * pi;
    const T mi = lerp<SmallW>(m[i], gi, w, omw);
    const T ui = max_nan(u[i] * b2, abs_(gi) + eps);
    m[i] = mi;
    u[i] = ui;
    p[i] = pi + nclr * (mi / ui);
  }
}

template <class T, bool Wd>
void adamax_w(const detail::AdamaxCoeffs& c, const ParamSlot<T>& s, int64_t b, int64_t e) {
  if (small_weight(T(c.lerp_w)))
    adamax_range<T, Wd, true>(c, s, b, e);
  else
    adamax_range<T, Wd, false>(c, s, b, e);
}

template <class T>
void adamax_dispatch(const void* cp, const ParamSlot<T>& s, int64_t b, int64_t e) {
  const auto& c = *static_cast<const detail::AdamaxCoeffs*>(cp);
  if (c.weight_decay != 0.0)
    adamax_w<T, true>(c, s, b, e);
  else
    adamax_w<T, false>(c, s, b, e);
}

}  // namespace

void adamax_step_f32(const void* c, const ParamSlot<float>& s, int64_t b, int64_t e) {
  adamax_dispatch<float>(c, s, b, e);
}
void adamax_step_f64(const void* c, const ParamSlot<double>& s, int64_t b, int64_t e) {
  adamax_dispatch<double>(c, s, b, e);
}

}  // namespace gd::GDCORE_ISA
