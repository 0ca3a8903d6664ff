// Vectorised loss evaluation (the Python gdcore.losses objects call this).
// Element definitions: csrc/kernels/loss_defs.inc, shared with the fused loops.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "gdcore/losses.hpp"

namespace gd {
namespace {
#include "loss_defs.inc"

void check(const Loss& loss, std::int64_t n) {
  const int k = int(loss.kind);
  if (k < 0 || k > 7) throw std::invalid_argument("unknown loss kind " + std::to_string(k));
  if (n < 0) throw std::invalid_argument("negative length");
  if (!(loss.param >= 0.0))
    throw std::invalid_argument("loss parameter (epsilon / threshold) must be >= 0");
}

// NaN in y or p gives NaN.  (The element definitions compare, and a
// comparison with NaN picks a finite branch: hinge's value at p = NaN would
// be 0.  The fused loops need no such care: they carry p − p into their
// loss sums, and a NaN margin fails the pass.)
template <class T>
T nan_through(T v, T y, T p) {
  return y == y && p == p ? v : y + p;
}

template <class T>
void value_impl(const Loss& loss, const T* y, const T* p, T* out, std::int64_t n) {
  check(loss, n);
  const int k = int(loss.kind);
  const T param = T(loss.param);
  for (std::int64_t i = 0; i < n; ++i)
    out[i] = nan_through(loss_value_elem<T>(k, param, y[i], p[i]), y[i], p[i]);
}

template <class T>
void derivative_impl(const Loss& loss, const T* y, const T* p, T* out, std::int64_t n) {
  check(loss, n);
  const int k = int(loss.kind);
  const T param = T(loss.param);
  for (std::int64_t i = 0; i < n; ++i)
    out[i] = nan_through(loss_derivative_elem<T>(k, param, y[i], p[i]), y[i], p[i]);
}

template <class T>
void multinomial_impl(const std::int64_t* y, const T* p, std::int64_t n, std::int64_t k, T* out,
                      T* grad) {
  if (n < 0 || k < 1) throw std::invalid_argument("multinomial loss needs n >= 0 and k >= 1");
  for (std::int64_t i = 0; i < n; ++i)
    if (y[i] < 0 || y[i] >= k)
      throw std::invalid_argument("class index " + std::to_string(y[i]) + " outside [0, " +
                                  std::to_string(k) + ")");
  for (std::int64_t i = 0; i < n; ++i) {
    const T* row = p + i * k;
    T m = row[0];
    for (std::int64_t j = 1; j < k; ++j) m = row[j] > m ? row[j] : m;
    T s = T(0);
    for (std::int64_t j = 0; j < k; ++j) s = s + gd_exp(row[j] - m);
    // (m − p_y) + log s, not (m + log s) − p_y: log s ∈ [0, log k] would be
    // rounded away next to a large m
    if (out != nullptr) out[i] = (m - row[y[i]]) + gd_log(s);
    if (grad != nullptr) {
      T* g = grad + i * k;
      for (std::int64_t j = 0; j < k; ++j) g[j] = gd_exp(row[j] - m) / s;
      g[y[i]] = g[y[i]] - T(1);
    }
  }
}
}  // namespace

void loss_value(const Loss& l, const float* y, const float* p, float* o, std::int64_t n) {
  value_impl(l, y, p, o, n);
}
void loss_value(const Loss& l, const double* y, const double* p, double* o, std::int64_t n) {
  value_impl(l, y, p, o, n);
}
void loss_derivative(const Loss& l, const float* y, const float* p, float* o, std::int64_t n) {
  derivative_impl(l, y, p, o, n);
}
void loss_derivative(const Loss& l, const double* y, const double* p, double* o,
                     std::int64_t n) {
  derivative_impl(l, y, p, o, n);
}
void multinomial_loss(const std::int64_t* y, const double* p, std::int64_t n, std::int64_t k,
                      double* out, double* grad) {
  multinomial_impl(y, p, n, k, out, grad);
}
void multinomial_loss(const std::int64_t* y, const float* p, std::int64_t n, std::int64_t k,
                      float* out, float* grad) {
  multinomial_impl(y, p, n, k, out, grad);
}

}  // namespace gd
