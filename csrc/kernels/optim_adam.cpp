// Adam / AdamW update — one fused pass (torch.optim.Adam, single-tensor rule).
//
//   g  = ±grad;  p = p·(1 − lr·wd) (decoupled) | g = g + wd·p (L2)
//   m  = lerp(m, g, 1 − β1)                 (torch's two-branch lerp)
//   v  = v·β2 + ((1 − β2)·g)·g
//   v̂  = max(v̂, v) (amsgrad) | v
//   p  = p + (−lr/(1 − β1ᵗ)) · (m / (√v̂ / √(1 − β2ᵗ) + eps))
//
// dtypes: f32, f64; every scalar is rounded to the dtype first, as torch does.
// Guarantee: no contraction, no reassociation: identical bits on every ISA
// path and thread count.  Bytes per element: reads p, g, m, v (+v̂), writes
// p, m, v (+v̂): 7 (9 with amsgrad) × sizeof(T).
#include "kernel_common.hpp"

namespace gd::GDCORE_ISA {
namespace {

template <class T, bool Ams, int Wd, bool SmallW>
void adam_range(const detail::AdamCoeffs& c, const ParamSlot<T>& s, int64_t b, int64_t e) {
  T* GDCORE_RESTRICT p = s.param;
  const T* GDCORE_RESTRICT g = s.grad;
  T* GDCORE_RESTRICT m = s.state[0];
  T* GDCORE_RESTRICT v = s.state[1];
  T* GDCORE_RESTRICT vmax = s.state[2];
  const T sign = T(c.grad_sign), wd = T(c.weight_decay), decay = T(c.decay);
  const T w1 = T(c.lerp_w), one_minus_w1 = T(1) - w1;
  const T b2 = T(c.beta2), omb2 = T(c.one_minus_beta2);
  const T bc2s = T(c.bc2_sqrt), eps = T(c.eps), nss = T(c.neg_step_size);
  GDCORE_IVDEP
  for (int64_t i = b; i < e; ++i) {
    T gi = g[i] * sign;
    T pi = p[i];
    if constexpr (Wd == 2) pi = pi * decay;
    if constexpr (Wd == 1) gi = gi + wd * pi;
    const T mi = lerp<SmallW>(m[i], gi, w1, one_minus_w1);
    const T vi = v[i] * b2 + (omb2 * gi) * gi;
    T vh = vi;
    if constexpr (Ams) {
      vh = max_nan(vmax[i], vi);
      vmax[i] = vh;
    }
    const T denom = sqrt_(vh) / bc2s + eps;
    p[i] = pi + nss * (mi / denom);
    m[i] = mi;
    v[i] = vi;
  }
}

template <class T, bool Ams, int Wd>
void adam_small(const detail::AdamCoeffs& c, const ParamSlot<T>& s, int64_t b, int64_t e) {
  if (small_weight(T(c.lerp_w)))
    adam_range<T, Ams, Wd, true>(c, s, b, e);
  else
    adam_range<T, Ams, Wd, false>(c, s, b, e);
}

template <class T, bool Ams>
void adam_wd(const detail::AdamCoeffs& c, const ParamSlot<T>& s, int64_t b, int64_t e) {
  switch (c.wd_mode) {
    case 0: adam_small<T, Ams, 0>(c, s, b, e); break;
    case 1: adam_small<T, Ams, 1>(c, s, b, e); break;
    default: adam_small<T, Ams, 2>(c, s, b, e); break;
  }
}

template <class T>
void adam_dispatch(const void* cp, const ParamSlot<T>& s, int64_t b, int64_t e) {
  const auto& c = *static_cast<const detail::AdamCoeffs*>(cp);
  if (c.amsgrad)
    adam_wd<T, true>(c, s, b, e);
  else
    adam_wd<T, false>(c, s, b, e);
}

}  // namespace

void adam_step_f32(const void* c, const ParamSlot<float>& s, int64_t b, int64_t e) {
  adam_dispatch<float>(c, s, b, e);
}
void adam_step_f64(const void* c, const ParamSlot<double>& s, int64_t b, int64_t e) {
  adam_dispatch<double>(c, s, b, e);
}

}  // namespace gd::GDCORE_ISA
