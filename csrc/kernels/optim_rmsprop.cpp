// RMSprop update — one fused pass (torch.optim.RMSprop, single-tensor rule).
//
//   g  = ±grad + wd·p
//   sq = sq·α + ((1 − α)·g)·g
//   ga = lerp(ga, g, 1 − α);  avg = √(sq + (−1·ga)·ga) + eps   (centered)
//   avg = √sq + eps                                             (otherwise)
//   b  = b·μ + g/avg;  p = p + (−lr)·b                          (momentum > 0)
//   p  = p + (−lr)·(g/avg)                                      (otherwise)
//
// dtypes: f32, f64.  Guarantee: identical bits on every ISA path and thread
// count.  Bytes per element: 5 × sizeof(T), +2 for momentum, +2 for centered.
#include "kernel_common.hpp"

namespace gd::GDCORE_ISA {
namespace {

template <class T, bool Wd, bool Centered, bool Mom, bool SmallW>
void rmsprop_range(const detail::RMSpropCoeffs& c, const ParamSlot<T>& s, int64_t b,
                   int64_t e) {
  T* GDCORE_RESTRICT p = s.param;
  const T* GDCORE_RESTRICT g = s.grad;
  T* GDCORE_RESTRICT sq = s.state[0];
  T* GDCORE_RESTRICT buf = s.state[1];
  T* GDCORE_RESTRICT ga = s.state[2];
  const T sign = T(c.grad_sign), wd = T(c.weight_decay), nlr = T(c.neg_lr);
  const T alpha = T(c.alpha), oma = T(c.one_minus_alpha);
  const T w = T(c.lerp_w), omw = T(1) - w, eps = T(c.eps), mu = T(c.momentum);
  GDCORE_IVDEP
  for (int64_t i = b; i < e; ++i) {
    const T pi = p[i];
    T gi = g[i] * sign;
    if constexpr (Wd) gi = gi + wd * pi;
    const T si = sq[i] * alpha + (oma * gi) * gi;
    sq[i] = si;
    T avg;
    if constexpr (Centered) {
      const T gai = lerp<SmallW>(ga[i], gi, w, omw);
      ga[i] = gai;
      avg = sqrt_(si + (T(-1) * gai) * gai);
    } else {
      avg = sqrt_(si);
    }
    avg = avg + eps;
    if constexpr (Mom) {
      const T bi = buf[i] * mu + T(1) * (gi / avg);
      buf[i] = bi;
      p[i] = pi + nlr * bi;
    } else {
      p[i] = pi + nlr * (gi / avg);
    }
  }
}

template <class T, bool Wd, bool Centered, bool Mom>
void rmsprop_w(const detail::RMSpropCoeffs& c, const ParamSlot<T>& s, int64_t b, int64_t e) {
  if (small_weight(T(c.lerp_w)))
    rmsprop_range<T, Wd, Centered, Mom, true>(c, s, b, e);
  else
    rmsprop_range<T, Wd, Centered, Mom, false>(c, s, b, e);
}

template <class T, bool Wd>
void rmsprop_opts(const detail::RMSpropCoeffs& c, const ParamSlot<T>& s, int64_t b, int64_t e) {
  if (c.centered) {
    if (c.use_momentum) return rmsprop_w<T, Wd, true, true>(c, s, b, e);
    return rmsprop_w<T, Wd, true, false>(c, s, b, e);
  }
  if (c.use_momentum) return rmsprop_w<T, Wd, false, true>(c, s, b, e);
  return rmsprop_w<T, Wd, false, false>(c, s, b, e);
}

template <class T>
void rmsprop_dispatch(const void* cp, const ParamSlot<T>& s, int64_t b, int64_t e) {
  const auto& c = *static_cast<const detail::RMSpropCoeffs*>(cp);
  if (c.weight_decay != 0.0)
    rmsprop_opts<T, true>(c, s, b, e);
  else
    rmsprop_opts<T, false>(c, s, b, e);
}

}  // namespace

void rmsprop_step_f32(const void* c, const ParamSlot<float>& s, int64_t b, int64_t e) {
  rmsprop_dispatch<float>(c, s, b, e);
}
void rmsprop_step_f64(const void* c, const ParamSlot<double>& s, int64_t b, int64_t e) {
  rmsprop_dispatch<double>(c, s, b, e);
}

}  // namespace gd::GDCORE_ISA
