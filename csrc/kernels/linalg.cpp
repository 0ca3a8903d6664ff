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

template <class T>
T dot_impl(const T* GDCORE_RESTRICT x, const T* GDCORE_RESTRICT w, int64_t n) {
  constexpr int kLanes = 16;
  T acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] = acc[j] + x[i + j] * w[i + j];
  for (int j = 0; i + j < n; ++j) acc[j] = acc[j] + x[i + j] * w[i + j];
  for (int h = kLanes / 2; h >= 1; h /= 2)
    for (int j = 0; j < h; ++j) acc[j] = acc[j] + acc[j + h];
  return acc[0];
}

template <class T>
T axpy_dot_impl(T* GDCORE_RESTRICT w, const T* GDCORE_RESTRICT x, T a, const T* GDCORE_RESTRICT xn,
                int64_t n) {
  constexpr int kLanes = 16;
  T acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const T wj = w[i + j] + a * x[i + j];
      w[i + j] = wj;
      acc[j] = acc[j] + xn[i + j] * wj;
    }
  for (int j = 0; i + j < n; ++j) {
    const T wj = w[i + j] + a * x[i + j];
    w[i + j] = wj;
    acc[j] = acc[j] + xn[i + j] * wj;
  }
  for (int h = kLanes / 2; h >= 1; h /= 2)
    for (int j = 0; j < h; ++j) acc[j] = acc[j] + acc[j + h];
  return acc[0];
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
