// Adadelta update — one fused pass (torch.optim.Adadelta, single-tensor rule).
//
//   g  = ±grad + wd·p
//   sq = sq·ρ + ((1 − ρ)·g)·g
//   d  = (√(acc + eps) / √(sq + eps))·g
//   acc = acc·ρ + ((1 − ρ)·d)·d;   p = p + (−lr)·d
//
// dtypes: f32, f64.  Guarantee: identical bits on every ISA path and thread
// count.  Bytes per element: reads p, g, sq, acc; writes p, sq, acc: 7 × sizeof(T).
#include "kernel_common.hpp"

namespace gd::GDCORE_ISA {
namespace {

template <class T, bool Wd>
void adadelta_range(const detail::AdadeltaCoeffs& c, const ParamSlot<T>& s, int64_t b,
                    int64_t e) {
  T* GDCORE_RESTRICT p = s.param;
  const T* GDCORE_RESTRICT g = s.grad;
  T* GDCORE_RESTRICT sq = s.state[0];
  T* GDCORE_RESTRICT acc = s.state[1];
  const T sign = T(c.grad_sign), wd = T(c.weight_decay), nlr = T(c.neg_lr);
  const T rho = T(c.rho), omr = T(c.one_minus_rho), eps = T(c.eps);
  GDCORE_IVDEP
  for (int64_t i = b; i < e; ++i) {
    const T pi = p[i];
    T gi = g[i] * sign;
    if constexpr (Wd) gi = gi + wd * pi;
    const T si = sq[i] * rho + (omr * gi) * gi;
    sq[i] = si;
    const T std_ = sqrt_(si + eps);
    const T delta = (sqrt_(acc[i] + eps) / std_) * gi;
    acc[i] = acc[i] * rho + (omr * delta) * delta;
    p[i] = pi + nlr * delta;
  }
}

template <class T>
void adadelta_dispatch(const void* cp, const ParamSlot<T>& s, int64_t b, int64_t e) {
  const auto& c = *static_cast<const detail::AdadeltaCoeffs*>(cp);
  if (c.weight_decay != 0.0)
    adadelta_range<T, true>(c, s, b, e);
  else
    adadelta_range<T, false>(c, s, b, e);
}

}  // namespace

void adadelta_step_f32(const void* c, const ParamSlot<float>& s, int64_t b, int64_t e) {
  adadelta_dispatch<float>(c, s, b, e);
}
void adadelta_step_f64(const void* c, const ParamSlot<double>& s, int64_t b, int64_t e) {
  adadelta_dispatch<double>(c, s, b, e);
}

}  // namespace gd::GDCORE_ISA
