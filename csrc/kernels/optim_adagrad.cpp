// Adagrad update — one fused pass (torch.optim.Adagrad, dense single-tensor rule).
//
//   g = ±grad + wd·p;  clr = lr / (1 + (t − 1)·lr_decay)
//   s = s + (1·g)·g;   p = p + (−clr)·(g / (√s + eps))
//
// dtypes: f32, f64.  Guarantee: identical bits on every ISA path and thread
// count.  Bytes per element: reads p, g, s; writes p, s: 5 × sizeof(T).
#include "kernel_common.hpp"

namespace gd::GDCORE_ISA {
namespace {

template <class T, bool Wd>
void adagrad_range(const detail::AdagradCoeffs& c, const ParamSlot<T>& s, int64_t b,
                   int64_t e) {
  T* GDCORE_RESTRICT p = s.param;
  const T* GDCORE_RESTRICT g = s.grad;
  T* GDCORE_RESTRICT sum = s.state[0];
  const T sign = T(c.grad_sign), wd = T(c.weight_decay), nclr = T(c.neg_clr), eps = T(c.eps);
  GDCORE_IVDEP
  for (int64_t i = b; i < e; ++i) {
    const T pi = p[i];
    T gi = g[i] * sign;
    if constexpr (Wd) gi = gi + wd * pi;
    const T si = sum[i] + (T(1) * gi) * gi;
    sum[i] = si;
    p[i] = pi + nclr * (gi / (sqrt_(si) + eps));
  }
}

template <class T>
void adagrad_dispatch(const void* cp, const ParamSlot<T>& s, int64_t b, int64_t e) {
  const auto& c = *static_cast<const detail::AdagradCoeffs*>(cp);
  if (c.weight_decay != 0.0)
    adagrad_range<T, true>(c, s, b, e);
  else
    adagrad_range<T, false>(c, s, b, e);
}

}  // namespace

void adagrad_step_f32(const void* c, const ParamSlot<float>& s, int64_t b, int64_t e) {
  adagrad_dispatch<float>(c, s, b, e);
}
void adagrad_step_f64(const void* c, const ParamSlot<double>& s, int64_t b, int64_t e) {
  adagrad_dispatch<double>(c, s, b, e);
}

}  // namespace gd::GDCORE_ISA
