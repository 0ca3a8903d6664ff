// NAdam update — one fused pass (torch.optim.NAdam, single-tensor rule).
//
//   g = ±grad;  p = p·(1 − lr·wd) (decoupled) | g = g + wd·p (L2)
//   m = lerp(m, g, 1 − β1);  v = v·β2 + ((1 − β2)·g)·g
//   d = √(v / (1 − β2ᵗ)) + eps
//   p = p + c_g·(g / d);  p = p + c_m·(m / d)
// with μₜ = β1(1 − ½·0.96^(t·ψ)), c_g = −lr(1 − μₜ)/(1 − Πμ),
// c_m = −lr·μₜ₊₁/(1 − Πμ·μₜ₊₁) computed per tensor by the runtime.
//
// dtypes: f32, f64.  Guarantee: identical bits on every ISA path and thread
// count.  Bytes per element: reads p, g, m, v; writes p, m, v: 7 × sizeof(T).
#include "kernel_common.hpp"

namespace gd::GDCORE_ISA {
namespace {

template <class T, int Wd, bool SmallW>
void nadam_range(const detail::NAdamCoeffs& c, const ParamSlot<T>& s, int64_t b, int64_t e) {
  T* GDCORE_RESTRICT p = s.param;
  const T* GDCORE_RESTRICT g = s.grad;
  T* GDCORE_RESTRICT m = s.state[0];
  T* GDCORE_RESTRICT v = s.state[1];
  const T sign = T(c.grad_sign), wd = T(c.weight_decay), decay = T(c.decay);
  const T w = T(c.lerp_w), omw = T(1) - w, b2 = T(c.beta2), omb2 = T(c.one_minus_beta2);
  const T bc2 = T(c.bias_correction2), eps = T(c.eps), cg = T(c.c_grad), cm = T(c.c_avg);
  GDCORE_IVDEP
  for (int64_t i = b; i < e; ++i) {
    T pi = p[i];
    T gi = g[i] * sign;
    if constexpr (Wd == 2) pi = pi * decay;
    if constexpr (Wd == 1) gi = gi + wd * pi;
    const T mi = lerp<SmallW>(m[i], gi, w, omw);
    const T vi = v[i] * b2 + (omb2 * gi) * gi;
    const T d = sqrt_(vi / bc2) + eps;
    pi = pi + cg * (gi / d);
    pi = pi + cm * (mi / d);
    p[i] = pi;
    m[i] = mi;
    v[i] = vi;
  }
}

template <class T, int Wd>
void nadam_w(const detail::NAdamCoeffs& c, const ParamSlot<T>& s, int64_t b, int64_t e) {
  if (small_weight(T(c.lerp_w)))
    nadam_range<T, Wd, true>(c, s, b, e);
  else
    nadam_range<T, Wd, false>(c, s, b, e);
}

template <class T>
void nadam_dispatch(const void* cp, const ParamSlot<T>& s, int64_t b, int64_t e) {
  const auto& c = *static_cast<const detail::NAdamCoeffs*>(cp);
  switch (c.wd_mode) {
    case 0: nadam_w<T, 0>(c, s, b, e); break;
    case 1: nadam_w<T, 1>(c, s, b, e); break;
    default: nadam_w<T, 2>(c, s, b, e); break;
  }
}

}  // namespace

void nadam_step_f32(const void* c, const ParamSlot<float>& s, int64_t b, int64_t e) {
  nadam_dispatch<float>(c, s, b, e);
}
void nadam_step_f64(const void* c, const ParamSlot<double>& s, int64_t b, int64_t e) {
  nadam_dispatch<double>(c, s, b, e);
}

}  // namespace gd::GDCORE_ISA
