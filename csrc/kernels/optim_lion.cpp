// Lion update — one fused pass (Chen et al. 2023, "Symbolic Discovery of
// Optimization Algorithms", Algorithm 2).
//
//   g = ±grad
//   c = lerp(m, g, 1 − β1)          (= β1·m + (1 − β1)·g)
//   p = p·(1 − lr·wd) + (−lr)·sign(c)     (sign(0) = 0; decay only if wd != 0)
//   m = lerp(m, g, 1 − β2)
//
// dtypes: f32, f64.  Guarantee: identical bits on every ISA path and thread
// count.  Bytes per element: reads p, g, m; writes p, m: 5 × sizeof(T).
#include "kernel_common.hpp"

namespace gd::GDCORE_ISA {
namespace {

template <class T, bool Decay, bool Small1, bool Small2>
void lion_range(const detail::LionCoeffs& c, const ParamSlot<T>& s, int64_t b, int64_t e) {
  T* GDCORE_RESTRICT p = s.param;
  const T* GDCORE_RESTRICT g = s.grad;
  T* GDCORE_RESTRICT m = s.state[0];
  const T sign = T(c.grad_sign), nlr = T(c.neg_lr), decay = T(c.decay);
  const T w1 = T(c.lerp_w1), omw1 = T(1) - w1, w2 = T(c.lerp_w2), omw2 = T(1) - w2;
  GDCORE_IVDEP
  for (int64_t i = b; i < e; ++i) {
    T pi = p[i];
    const T gi = g[i] * sign;
    const T mi = m[i];
    const T ci = lerp<Small1>(mi, gi, w1, omw1);
    const T sgn = ci > T(0) ? T(1) : (ci < T(0) ? T(-1) : ci);  // sign; keeps 0 and NaN
    if constexpr (Decay) pi = pi * decay;
    p[i] = pi + nlr * sgn;
    m[i] = lerp<Small2>(mi, gi, w2, omw2);
  }
}

template <class T, bool Decay, bool Small1>
void lion_w2(const detail::LionCoeffs& c, const ParamSlot<T>& s, int64_t b, int64_t e) {
  if (small_weight(T(c.lerp_w2)))
    lion_range<T, Decay, Small1, true>(c, s, b, e);
  else
    lion_range<T, Decay, Small1, false>(c, s, b, e);
}

template <class T, bool Decay>
void lion_w1(const detail::LionCoeffs& c, const ParamSlot<T>& s, int64_t b, int64_t e) {
  if (small_weight(T(c.lerp_w1)))
    lion_w2<T, Decay, true>(c, s, b, e);
  else
    lion_w2<T, Decay, false>(c, s, b, e);
}

template <class T>
void lion_dispatch(const void* cp, const ParamSlot<T>& s, int64_t b, int64_t e) {
  const auto& c = *static_cast<const detail::LionCoeffs*>(cp);
  if (c.decoupled)
    lion_w1<T, true>(c, s, b, e);
  else
    lion_w1<T, false>(c, s, b, e);
}

}  // namespace

void lion_step_f32(const void* c, const ParamSlot<float>& s, int64_t b, int64_t e) {
  lion_dispatch<float>(c, s, b, e);
}
void lion_step_f64(const void* c, const ParamSlot<double>& s, int64_t b, int64_t e) {
  lion_dispatch<double>(c, s, b, e);
}

}  // namespace gd::GDCORE_ISA
