// gdcore public C++ API: the loss functions of the linear models.
//
// One definition per loss (csrc/kernels/loss_defs.inc) serves the vectorised
// evaluation below, the Python gdcore.losses objects and the fused epoch
// loops, so they cannot drift apart.  Losses are written for a target y and a
// prediction (decision value) p; classification losses take y in {-1, +1}.
// Every loss is numerically stable for large margins (no overflow in exp).
#pragma once

#include <cstdint>

namespace gd {

enum class LossKind : int {
  squared_error = 0,            // ½(p − y)²
  huber = 1,                    // ½r² if |r| ≤ ε else ε|r| − ½ε², r = p − y
  epsilon_insensitive = 2,      // max(0, |y − p| − ε)
  squared_epsilon_insensitive = 3,  // max(0, |y − p| − ε)²
  log_loss = 4,                 // log(1 + exp(−y·p))
  hinge = 5,                    // max(0, t − y·p), t = threshold (1; perceptron: 0)
  squared_hinge = 6,            // max(0, t − y·p)²
  modified_huber = 7,           // (max(0, 1 − y·p))² if y·p ≥ −1 else −4·y·p
};

/// A loss and its parameter (ε for the Huber and ε-insensitive losses, the
/// threshold t for the hinge losses; ignored otherwise).
struct Loss {
  LossKind kind = LossKind::squared_error;
  double param = 0.0;
};

/// out[i] = loss(y[i], p[i]) for i < n (NaN where y[i] or p[i] is NaN).
void loss_value(const Loss& loss, const float* y, const float* p, float* out, std::int64_t n);
void loss_value(const Loss& loss, const double* y, const double* p, double* out, std::int64_t n);

/// out[i] = ∂loss/∂p at (y[i], p[i]) (NaN where y[i] or p[i] is NaN).
void loss_derivative(const Loss& loss, const float* y, const float* p, float* out,
                     std::int64_t n);
void loss_derivative(const Loss& loss, const double* y, const double* p, double* out,
                     std::int64_t n);

/// Multinomial log loss (softmax cross-entropy) of n rows of k decision
/// values p (row-major) and integer classes y in [0, k): out[i] =
/// logsumexp(p[i, :]) − p[i, y[i]], computed as (m − p[i, y[i]]) + log Σ_j
/// exp(p[i, j] − m) with m the row's maximum; grad (optional, n × k) =
/// softmax − onehot, softmax_j = exp(p[i, j] − m) / Σ.  Accurate for
/// logits of any magnitude.
void multinomial_loss(const std::int64_t* y, const double* p, std::int64_t n, std::int64_t k,
                      double* out, double* grad);
void multinomial_loss(const std::int64_t* y, const float* p, std::int64_t n, std::int64_t k,
                      float* out, float* grad);

}  // namespace gd
