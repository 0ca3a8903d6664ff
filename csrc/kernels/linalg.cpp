// Dot product of one row with the weights — the margin of a linear model.
//
//   dot(x, w) = Σ x_i·w_i  in the data's dtype, 16 partial sums (element i
//   goes to partial i mod 16 whatever the vector width) combined pairwise in
//   a fixed order: identical bits on every ISA path.
// Bytes per element: reads x and w: 2 × sizeof(T) (w stays in cache).
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

}  // namespace

float dot_f32(const float* x, const float* w, int64_t n) { return dot_impl(x, w, n); }
double dot_f64(const double* x, const double* w, int64_t n) { return dot_impl(x, w, n); }

}  // namespace gd::GDCORE_ISA
