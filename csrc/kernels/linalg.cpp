// Dot product of one row with the weights — the margin of a linear model.
//
//   dot(x, w) = Σ x_i·w_i  in the data's dtype, 16 partial sums (element i
//   goes to partial i mod 16 whatever the vector width) combined pairwise in
//   a fixed order: identical bits on every ISA path.
//   axpy_dot(w, x, a, xn) = w ← w + a·x (multiply then add), then dot(xn, w)
//   in one pass: the same bits as axpy followed by dot, with one read of w
//   (the per-sample SGD step followed by the next sample's margin).
// Bytes per element: dot reads x and w: 2 × sizeof(T) (w stays in cache);
// axpy_dot reads x, xn and w and writes w: 4 × sizeof(T).
#include "kernel_common.hpp"

namespace gd::GDCORE_ISA {
namespace {

// The 16 partials, combined pairwise: p[j] += p[j + h] for h = 8, 4, 2, 1.
// (Constant indices throughout keep the partials in registers.)
template <class T>
T combine16(T* acc) {
#pragma GCC unroll 8
  for (int j = 0; j < 8; ++j) acc[j] = acc[j] + acc[j + 8];
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) acc[j] = acc[j] + acc[j + 4];
  acc[0] = acc[0] + acc[2];
  acc[1] = acc[1] + acc[3];
  return acc[0] + acc[1];
}

// Σ term(i) for i < n: term i goes to partial i mod 16 (whatever the vector
// width), the partials combined by combine16.  The tail adds +0 to the
// unused partials (no partial is ever -0: they start at +0), so the bits are
// those of skipping them.
template <class T, class Term>
T sum16(int64_t n, Term term) {
  constexpr int kLanes = 16;
  T acc[kLanes];
#pragma GCC unroll 16
  for (int j = 0; j < kLanes; ++j) acc[j] = T(0);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
#pragma GCC unroll 16
    for (int j = 0; j < kLanes; ++j) acc[j] = acc[j] + term(i + j);
  const int64_t rest = n - i;
#pragma GCC unroll 16
  for (int j = 0; j < kLanes; ++j) {
    const T p = j < rest ? term(i + j) : T(0);
    acc[j] = acc[j] + p;
  }
  return combine16(acc);
}

template <class T>
T dot_impl(const T* GDCORE_RESTRICT x, const T* GDCORE_RESTRICT w, int64_t n) {
  return sum16<T>(n, [x, w](int64_t k) { return x[k] * w[k]; });
}

template <class T>
T axpy_dot_impl(T* GDCORE_RESTRICT w, const T* GDCORE_RESTRICT x, T a, const T* GDCORE_RESTRICT xn,
                int64_t n) {
  return sum16<T>(n, [w, x, a, xn](int64_t k) {
    const T wj = w[k] + a * x[k];
    w[k] = wj;
    return xn[k] * wj;
  });
}

}  // namespace

float axpy_dot_f32(float* w, const float* x, float a, const float* xn, int64_t n) {
  return axpy_dot_impl(w, x, a, xn, n);
}
double axpy_dot_f64(double* w, const double* x, double a, const double* xn, int64_t n) {
  return axpy_dot_impl(w, x, a, xn, n);
}
float dot_f32(const float* x, const float* w, int64_t n) { return dot_impl(x, w, n); }
double dot_f64(const double* x, const double* w, int64_t n) { return dot_impl(x, w, n); }

}  // namespace gd::GDCORE_ISA
