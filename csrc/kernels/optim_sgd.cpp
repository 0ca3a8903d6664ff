// SGD update — one fused pass (torch.optim.SGD, single-tensor rule).
//
//   g = ±grad + wd·p                        (wd term only when wd != 0)
//   b = g                    on the first step with momentum,
//   b = b·μ + (1 − dampening)·g afterwards
//   g = g + μ·b (nesterov) | b
//   p = p + (−lr)·g
//
// dtypes: f32, f64.  Guarantee: identical bits on every ISA path and thread
// count.  Bytes per element: p, g read and p written: 3 × sizeof(T); with
// momentum the buffer adds a read and a write: 5 × sizeof(T).
#include "kernel_common.hpp"

namespace gd::GDCORE_ISA {
namespace {

template <class T, bool Wd, int Mom /*0 none, 1 first step, 2 running*/, bool Nesterov>
void sgd_range(const detail::SGDCoeffs& c, const ParamSlot<T>& s, int64_t b, int64_t e) {
  T* GDCORE_RESTRICT p = s.param;
  const T* GDCORE_RESTRICT g = s.grad;
  T* GDCORE_RESTRICT buf = s.state[0];
  const T sign = T(c.grad_sign), wd = T(c.weight_decay), nlr = T(c.neg_lr);
  const T mu = T(c.momentum), omd = T(c.one_minus_dampening);
  GDCORE_IVDEP
  for (int64_t i = b; i < e; ++i) {
    const T pi = p[i];
    T gi = g[i] * sign;
    if constexpr (Wd) gi = gi + wd * pi;
    if constexpr (Mom != 0) {
      T bi;
      if constexpr (Mom == 1)
        bi = gi;
      else
        bi = buf[i] * mu + omd * gi;
      buf[i] = bi;
      if constexpr (Nesterov)
        gi = gi + mu * bi;
      else
        gi = bi;
    }
    p[i] = pi + nlr * gi;
  }
}

template <class T, bool Wd>
void sgd_mom(const detail::SGDCoeffs& c, const ParamSlot<T>& s, int64_t b, int64_t e) {
  if (!c.use_momentum) return sgd_range<T, Wd, 0, false>(c, s, b, e);
  if (c.first)
    return c.nesterov ? sgd_range<T, Wd, 1, true>(c, s, b, e)
                      : sgd_range<T, Wd, 1, false>(c, s, b, e);
  return c.nesterov ? sgd_range<T, Wd, 2, true>(c, s, b, e)
                    : sgd_range<T, Wd, 2, false>(c, s, b, e);
}

template <class T>
void sgd_dispatch(const void* cp, const ParamSlot<T>& s, int64_t b, int64_t e) {
  const auto& c = *static_cast<const detail::SGDCoeffs*>(cp);
  if (c.weight_decay != 0.0)
    sgd_mom<T, true>(c, s, b, e);
  else
    sgd_mom<T, false>(c, s, b, e);
}

}  // namespace

void sgd_step_f32(const void* c, const ParamSlot<float>& s, int64_t b, int64_t e) {
  sgd_dispatch<float>(c, s, b, e);
}
void sgd_step_f64(const void* c, const ParamSlot<double>& s, int64_t b, int64_t e) {
  sgd_dispatch<double>(c, s, b, e);
}

}  // namespace gd::GDCORE_ISA
