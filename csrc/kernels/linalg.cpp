// Dot product of one row with the weights — the margin of a linear model.
//
//   dot(x, w) = Σ x_i·w_i  in the data's dtype, P partial sums (P = 32 for
//   f32, 16 for f64: four 256-bit registers; element i goes to partial
//   i mod P whatever the vector width) combined pairwise in a fixed order:
//   identical bits on every ISA path.
//   axpy_dot(w, x, a, xn) = w ← w + a·x (multiply then add), then dot(xn, w)
//   in one pass: the same bits as axpy followed by dot, with one read of w
//   (the per-sample SGD step followed by the next sample's margin).
// Bytes per element: dot reads x and w: 2 × sizeof(T) (w stays in cache);
// axpy_dot reads x, xn and w and writes w: 4 × sizeof(T).
// Written once over the partials (sum_partials); paths with AVX2 (AVX2 and
// AVX-512) keep them in four vector registers with masked tails
// (sum_partials_avx2), the others leave the vectorising to the compiler.
#include "row_kernels.hpp"

namespace gd::GDCORE_ISA {

float axpy_dot_f32(float* w, const float* x, float a, const float* xn, int64_t n) {
  return axpy_dot_impl(w, x, a, xn, n);
}
double axpy_dot_f64(double* w, const double* x, double a, const double* xn, int64_t n) {
  return axpy_dot_impl(w, x, a, xn, n);
}
float dot_f32(const float* x, const float* w, int64_t n) { return dot_impl(x, w, n); }
double dot_f64(const double* x, const double* w, int64_t n) { return dot_impl(x, w, n); }

}  // namespace gd::GDCORE_ISA
