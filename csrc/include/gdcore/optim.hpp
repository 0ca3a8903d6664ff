// gdcore public C++ API: fused optimizer updates.
//
// Each *_step function updates a whole parameter group — any number of
// tensors — in one call: one pass over memory per tensor that reads the
// parameter, its gradient and its state once and writes the parameter and
// state once.  Large groups are split into fixed chunks that OpenMP threads
// share; many small tensors share one parallel region.  The arithmetic is
// torch.optim's documented single-tensor algorithm, operation for operation
// (hyperparameters are rounded to the tensor's dtype where torch does so),
// with multiply-then-add and never a fused multiply-add, so every ISA path
// and every thread count gives bitwise-identical results.
//
// Options are validated before any memory is touched; a bad option throws
// std::invalid_argument and leaves every tensor as it was.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gd {

/// One tensor of a parameter group.  `param` and `grad` hold `size`
/// contiguous elements; `state[k]` are optimizer-specific buffers of the same
/// size (see each optimizer for their meaning; unused slots may be null).
/// `step` counts the updates this tensor has had and is incremented by the
/// call.  `scalar` is per-tensor scalar state (NAdam's mu_product; start at 1).
/// `initialized` is 0 until the momentum buffer of SGD holds a value.
/// The params and state buffers of a call must not overlap each other, and
/// a grad may not overlap any of them except by being its own param exactly
/// (the kernels read them as restrict pointers, split between threads; the
/// Python binding checks this, callers of the C++ API must ensure it).
template <class T>
struct ParamSlot {
  T* param = nullptr;
  const T* grad = nullptr;
  T* state[3] = {nullptr, nullptr, nullptr};
  std::int64_t size = 0;
  std::int64_t step = 0;
  double scalar = 1.0;
  std::uint8_t initialized = 0;
};

/// SGD (torch.optim.SGD).  state[0]: momentum_buffer (when momentum != 0).
///   g = ±grad + weight_decay·p
///   b = g (first step) | momentum·b + (1 − dampening)·g
///   g = g + momentum·b (nesterov) | b
///   p = p − lr·g
struct SGDOptions {
  double lr = 1e-3, momentum = 0.0, dampening = 0.0, weight_decay = 0.0;
  bool nesterov = false, maximize = false;
};

/// Adam / AdamW (torch.optim.Adam, AdamW = decoupled_weight_decay).
/// state[0]: exp_avg, state[1]: exp_avg_sq, state[2]: max_exp_avg_sq (amsgrad).
///   m = lerp(m, g, 1 − β1);  v = β2·v + (1 − β2)·g·g
///   p = p − lr/(1 − β1ᵗ) · m / (√v̂ / √(1 − β2ᵗ) + eps)
struct AdamOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
  bool amsgrad = false, maximize = false, decoupled_weight_decay = false;
};

/// RMSprop.  state[0]: square_avg, state[1]: momentum_buffer (momentum > 0),
/// state[2]: grad_avg (centered).
struct RMSpropOptions {
  double lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0.0, momentum = 0.0;
  bool centered = false, maximize = false;
};

/// Adagrad.  state[0]: sum.
struct AdagradOptions {
  double lr = 1e-2, lr_decay = 0.0, weight_decay = 0.0, eps = 1e-10;
  bool maximize = false;
};

/// Adadelta.  state[0]: square_avg, state[1]: acc_delta.
struct AdadeltaOptions {
  double lr = 1.0, rho = 0.9, eps = 1e-6, weight_decay = 0.0;
  bool maximize = false;
};

/// Adamax.  state[0]: exp_avg, state[1]: exp_inf.
struct AdamaxOptions {
  double lr = 2e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
  bool maximize = false;
};

/// NAdam.  state[0]: exp_avg, state[1]: exp_avg_sq; ParamSlot::scalar: mu_product.
struct NAdamOptions {
  double lr = 2e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0,
         momentum_decay = 4e-3;
  bool decoupled_weight_decay = false, maximize = false;
};

/// RAdam.  state[0]: exp_avg, state[1]: exp_avg_sq.
struct RAdamOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
  bool decoupled_weight_decay = false, maximize = false;
};

/// Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms").
/// state[0]: exp_avg.
///   c = lerp(m, g, 1 − β1);  p = p·(1 − lr·wd) − lr·sign(c);  m = lerp(m, g, 1 − β2)
struct LionOptions {
  double lr = 1e-4, beta1 = 0.9, beta2 = 0.99, weight_decay = 0.0;
  bool maximize = false;
};

#define GDCORE_DECLARE_STEP(name, Options)                                   \
  void name##_step(const Options& options, ParamSlot<float>* tensors,       \
                   std::size_t count);                                       \
  void name##_step(const Options& options, ParamSlot<double>* tensors,      \
                   std::size_t count);                                       \
  void validate(const Options& options);

GDCORE_DECLARE_STEP(sgd, SGDOptions)
GDCORE_DECLARE_STEP(adam, AdamOptions)
GDCORE_DECLARE_STEP(rmsprop, RMSpropOptions)
GDCORE_DECLARE_STEP(adagrad, AdagradOptions)
GDCORE_DECLARE_STEP(adadelta, AdadeltaOptions)
GDCORE_DECLARE_STEP(adamax, AdamaxOptions)
GDCORE_DECLARE_STEP(nadam, NAdamOptions)
GDCORE_DECLARE_STEP(radam, RAdamOptions)
GDCORE_DECLARE_STEP(lion, LionOptions)

#undef GDCORE_DECLARE_STEP

}  // namespace gd
