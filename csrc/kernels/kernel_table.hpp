// Internal: the table of kernels that each ISA path exports, and the
// per-tensor coefficients the runtime computes for them.  Plain data only —
// no inline functions — so that nothing here can be merged across ISA
// translation units.
#pragma once

#include <cstdint>

#include "gdcore/optim.hpp"

namespace gd::detail {

enum Optim : int {
  kSGD = 0, kAdam, kRMSprop, kAdagrad, kAdadelta, kAdamax, kNAdam, kRAdam, kLion,
  kOptimCount
};

// Per-tensor coefficients, in double; kernels round them to the tensor dtype
// exactly where torch's scalar arguments are rounded.
struct SGDCoeffs {
  double neg_lr, momentum, one_minus_dampening, weight_decay, grad_sign;
  int nesterov, use_momentum, first;
};
struct AdamCoeffs {
  double neg_step_size, bc2_sqrt, lerp_w, beta2, one_minus_beta2, eps, weight_decay,
      decay, grad_sign;
  int amsgrad, wd_mode;  // wd_mode: 0 none, 1 L2 (added to grad), 2 decoupled
};
struct RMSpropCoeffs {
  double neg_lr, alpha, one_minus_alpha, lerp_w, eps, weight_decay, momentum, grad_sign;
  int centered, use_momentum;
};
struct AdagradCoeffs {
  double neg_clr, eps, weight_decay, grad_sign;
};
struct AdadeltaCoeffs {
  double neg_lr, rho, one_minus_rho, eps, weight_decay, grad_sign;
};
struct AdamaxCoeffs {
  double neg_clr, lerp_w, beta2, eps, weight_decay, grad_sign;
};
struct NAdamCoeffs {
  double c_grad, c_avg, bias_correction2, lerp_w, beta2, one_minus_beta2, eps, weight_decay,
      decay, grad_sign;
  int wd_mode;
};
struct RAdamCoeffs {
  double lr, bias_correction1, bc2_sqrt, rect, lerp_w, beta2, one_minus_beta2, eps,
      weight_decay, decay, grad_sign;
  int wd_mode, rectified;
};
struct LionCoeffs {
  double neg_lr, lerp_w1, lerp_w2, decay, grad_sign;
  int decoupled;
};

// One block of dense rows of a fused mini-batch epoch
// (minibatch_block.cpp): what the kernel reads, and the outputs it writes.
constexpr std::int64_t kMinibatchBlockRows = 64;
template <class T>
struct MinibatchBlock {
  const T* X;                      // rows of d values
  std::int64_t d;
  const std::int64_t* rows;        // the block's rows, in order (at most kMinibatchBlockRows)
  std::int64_t n_rows;
  const std::int64_t* prefetch;    // per row of the block: a row to prefetch, or −1
  const T* y;
  const T* sample_weight;          // or null
  const T* w;
  T bias;
  int loss_kind;
  T loss_param;
  T* resid;                        // out: each row's residual sw·clip(∂loss/∂m)
  T* part;                         // out: the block's gradient Σ r_i·x_i (overwritten)
  T resid_sum;                     // out: Σ r_i in row order
  double loss_sum;                 // out: Σ sw·loss + (m − m) in row order
};

template <class T>
using StepRange = void (*)(const void* coeffs, const ParamSlot<T>& slot, std::int64_t begin,
                           std::int64_t end);

struct KernelTable {
  const char* isa;
  StepRange<float> step_f32[kOptimCount];
  StepRange<double> step_f64[kOptimCount];
  // One block (n <= kNormBlock) of a norm: ord 1 -> sum |x|, 2 -> sum x*x,
  // 0 -> max |x| (NaN if any element is NaN).
  double (*norm_block_f32)(const float* x, std::int64_t n, int ord);
  double (*norm_block_f64)(const double* x, std::int64_t n, int ord);
  void (*scale_f32)(float* x, std::int64_t n, float factor);
  void (*scale_f64)(double* x, std::int64_t n, double factor);
  void (*clamp_f32)(float* x, std::int64_t n, float bound);
  void (*clamp_f64)(double* x, std::int64_t n, double bound);
  void (*axpy_f32)(float* a, const float* b, std::int64_t n, float alpha);
  void (*axpy_f64)(double* a, const double* b, std::int64_t n, double alpha);
  // Fixed-order dot product (16 partial sums).
  float (*dot_f32)(const float* x, const float* w, std::int64_t n);
  double (*dot_f64)(const double* x, const double* w, std::int64_t n);
  // w += a·x, then the fixed-order dot(xn, w): axpy then dot, in one pass.
  float (*axpy_dot_f32)(float* w, const float* x, float a, const float* xn, std::int64_t n);
  double (*axpy_dot_f64)(double* w, const double* x, double a, const double* xn, std::int64_t n);
  // One block of a fused mini-batch epoch on dense rows.
  void (*minibatch_block_f32)(MinibatchBlock<float>& block);
  void (*minibatch_block_f64)(MinibatchBlock<double>& block);
  // log_loss values from the margins z and e = exp(-|z|) (loss_values.cpp).
  void (*log_loss_values_f32)(const float* z, const float* e, float* out, std::int64_t n);
  void (*log_loss_values_f64)(const double* z, const double* e, double* out, std::int64_t n);
  // Σ v² and Σ |v| in index order, in double, of `count` rows of n values
  // `stride` apart (norm_sums.cpp).
  void (*norm_sums_f32)(const float* rows, std::int64_t stride, std::int64_t n, int count,
                        double* l2, double* l1);
  void (*norm_sums_f64)(const double* rows, std::int64_t stride, std::int64_t n, int count,
                        double* l2, double* l1);
};

}  // namespace gd::detail

// Every ISA path defines gd::<isa>::kernel_table().
#define GDCORE_DECLARE_ISA_TABLE(isa) \
  namespace gd::isa {                 \
  const detail::KernelTable& kernel_table();  \
  }
