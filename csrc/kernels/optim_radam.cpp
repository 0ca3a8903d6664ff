// RAdam update — one fused pass (torch.optim.RAdam, single-tensor rule).
//
//   g = ±grad;  p = p·(1 − lr·wd) (decoupled) | g = g + wd·p (L2)
//   m = lerp(m, g, 1 − β1);  v = v·β2 + ((1 − β2)·g)·g
//   m̂ = m / (1 − β1ᵗ)
//   p = p − ((m̂·lr)·((1 / (√v + eps))·√(1 − β2ᵗ)))·r   when ρₜ > 5 (r: rectifier;
//       torch computes scalar/tensor as reciprocal times scalar)
//   p = p − m̂·lr                                    otherwise
//
// dtypes: f32, f64.  Guarantee: identical bits on every ISA path and thread
// count.  Bytes per element: reads p, g, m, v; writes p, m, v: 7 × sizeof(T).
#include "kernel_common.hpp"

namespace gd::GDCORE_ISA {
namespace {

template <class T, int Wd, bool Rect, bool SmallW>
void radam_range(const detail::RAdamCoeffs& c, const ParamSlot<T>& s, int64_t b, int64_t e) {
  T* GDCORE_RESTRICT p = s.param;
  const T* GDCORE_RESTRICT g = s.grad;
  T* GDCORE_RESTRICT m = s.state[0];
  T* GDCORE_RESTRICT v = s.state[1];
  const T sign = T(c.grad_sign), wd = T(c.weight_decay), decay = T(c.decay);
  const T w = T(c.lerp_w), omw = T(1) - w, b2 = T(c.beta2), omb2 = T(c.one_minus_beta2);
  const T bc1 = T(c.bias_correction1), bc2s = T(c.bc2_sqrt), eps = T(c.eps);
  const T lr = T(c.lr), rect = T(c.rect);
  GDCORE_IVDEP
  for (int64_t i = b; i < e; ++i) {
    T pi = p[i];
    T gi = g[i] * sign;
    if constexpr (Wd == 2) pi = pi * decay;
    if constexpr (Wd == 1) gi = gi + wd * pi;
    const T mi = lerp<SmallW>(m[i], gi, w, omw);
    const T vi = v[i] * b2 + (omb2 * gi) * gi;
    const T mhat_lr = (mi / bc1) * lr;
    T upd;
    if constexpr (Rect)
      upd = (mhat_lr * ((T(1) / (sqrt_(vi) + eps)) * bc2s)) * rect;
    else
      upd = mhat_lr;
    p[i] = pi + T(-1) * upd;
    m[i] = mi;
    v[i] = vi;
  }
}

template <class T, int Wd, bool Rect>
void radam_w(const detail::RAdamCoeffs& c, const ParamSlot<T>& s, int64_t b, int64_t e) {
  if (small_weight(T(c.lerp_w)))
    radam_range<T, Wd, Rect, true>(c, s, b, e);
  else
    radam_range<T, Wd, Rect, false>(c, s, b, e);
}

template <class T, int Wd>
void radam_r(const detail::RAdamCoeffs& c, const ParamSlot<T>& s, int64_t b, int64_t e) {
  if (c.rectified)
    radam_w<T, Wd, true>(c, s, b, e);
  else
    radam_w<T, Wd, false>(c, s, b, e);
}

template <class T>
void radam_dispatch(const void* cp, const ParamSlot<T>& s, int64_t b, int64_t e) {
  const auto& c = *static_cast<const detail::RAdamCoeffs*>(cp);
  switch (c.wd_mode) {
    case 0: radam_r<T, 0>(c, s, b, e); break;
    case 1: radam_r<T, 1>(c, s, b, e); break;
    default: radam_r<T, 2>(c, s, b, e); break;
  }
}

}  // namespace

void radam_step_f32(const void* c, const ParamSlot<float>& s, int64_t b, int64_t e) {
  radam_dispatch<float>(c, s, b, e);
}
void radam_step_f64(const void* c, const ParamSlot<double>& s, int64_t b, int64_t e) {
  radam_dispatch<double>(c, s, b, e);
}

}  // namespace gd::GDCORE_ISA
