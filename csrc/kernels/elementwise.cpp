// Elementwise helpers: scale (clip_grad_norm_), clamp (clip_grad_value_) and
// axpy (the in-place streaming kernel that measures the memory roofline).
//
//   scale: x = x·f       clamp: x = min(max(x, −b), b) (NaN stays NaN)
//   axpy:  a = a + α·b   (multiply then add, never fused)
//
// dtypes: f32, f64.  Guarantee: identical bits on every ISA path and thread
// count.  Bytes per element: scale/clamp 2 × sizeof(T), axpy 3 × sizeof(T).
#include "row_kernels.hpp"  // axpy_impl

namespace gd::GDCORE_ISA {
namespace {

template <class T>
void scale_impl(T* GDCORE_RESTRICT x, int64_t n, T f) {
  GDCORE_IVDEP
  for (int64_t i = 0; i < n; ++i) x[i] = x[i] * f;
}

template <class T>
void clamp_impl(T* GDCORE_RESTRICT x, int64_t n, T bound) {
  const T lo = -bound;
  GDCORE_IVDEP
  for (int64_t i = 0; i < n; ++i) {
    const T v = x[i];
    x[i] = v < lo ? lo : (v > bound ? bound : v);
  }
}

}  // namespace

void scale_f32(float* x, int64_t n, float f) { scale_impl(x, n, f); }
void scale_f64(double* x, int64_t n, double f) { scale_impl(x, n, f); }
void clamp_f32(float* x, int64_t n, float b) { clamp_impl(x, n, b); }
void clamp_f64(double* x, int64_t n, double b) { clamp_impl(x, n, b); }
void axpy_f32(float* a, const float* b, int64_t n, float alpha) { axpy_impl(a, b, n, alpha); }
void axpy_f64(double* a, const double* b, int64_t n, double alpha) { axpy_impl(a, b, n, alpha); }

}  // namespace gd::GDCORE_ISA
