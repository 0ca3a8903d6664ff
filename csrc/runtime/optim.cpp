// Public optimizer entry points: validate options and tensors, compute each
// tensor's coefficients (bias corrections, ...) in double exactly as
// torch.optim does in Python, then run this ISA's kernel over fixed chunks.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <type_traits>
#include <stdexcept>
#include <string>
#include <vector>

#include "gdcore/optim.hpp"
#include "gdcore/runtime.hpp"
#include "internal.hpp"

namespace gd {
namespace {
using detail::Chunk;

std::string fmt(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void check_nonneg(const char* name, double v) {
  if (!(v >= 0.0) || std::isinf(v))
    throw std::invalid_argument(std::string(name) + " must be a finite number >= 0, got " +
                                fmt(v));
}

void check_beta(const char* name, double v) {
  if (!(v >= 0.0 && v < 1.0))
    throw std::invalid_argument(std::string(name) + " must be in [0, 1), got " + fmt(v));
}

void check_unit(const char* name, double v) {
  if (!(v >= 0.0 && v <= 1.0))
    throw std::invalid_argument(std::string(name) + " must be in [0, 1], got " + fmt(v));
}

template <class T>
void check_tensors(const ParamSlot<T>* ts, std::size_t count, unsigned state_mask,
                   const char* what) {
  if (count > 0 && ts == nullptr) throw std::invalid_argument("tensor list is null");
  for (std::size_t i = 0; i < count; ++i) {
    const auto& t = ts[i];
    if (t.size < 0)
      throw std::invalid_argument("tensor " + std::to_string(i) + " has a negative size");
    if (t.size == 0) continue;
    if (t.param == nullptr || t.grad == nullptr)
      throw std::invalid_argument("tensor " + std::to_string(i) + ": null param or grad");
    for (int k = 0; k < 3; ++k)
      if (((state_mask >> k) & 1u) && t.state[k] == nullptr)
        throw std::invalid_argument("tensor " + std::to_string(i) + ": " + what +
                                    " needs state[" + std::to_string(k) + "]");
  }
}

// An update's work per element, in quarters of a cheap element: a
// parallel region (its fork and join about 2 us on two vCPUs) pays from
// about 16384 * 4 / weight elements.  (Measured on an AVX-512 Xeon, arrays
// in cache, one thread: SGD 0.10 ns an element, Lion 0.19, RMSprop 0.37,
// Adam 0.55.  Against one threshold of 16 384 elements for all: Adam on
// 12 000 and 16 000 elements 1.2x and 1.3x faster on two threads, RMSprop
// on 14 000 1.15x; plain SGD and Lion on 18 000-20 000 elements no slower
// on one thread, up to 1.2x faster.)
namespace weight {
constexpr int kSGD = 3, kSGDMomentum = 4, kLion = 3, kAdamax = 4, kAdagrad = 6, kRMSprop = 6,
              kAdam = 8, kAdadelta = 8, kNAdam = 8, kRAdam = 8;
}  // namespace weight

// Run this ISA's kernel over every tensor, the elements shared evenly
// between as many threads as pay off for the update's `work` per element.
template <class T, class C>
void run(detail::Optim kind, const std::vector<C>& coeffs, ParamSlot<T>* ts, std::size_t count,
         int work) {
  thread_local std::vector<std::int64_t> offsets;
  offsets.resize(count + 1);
  offsets[0] = 0;
  for (std::size_t i = 0; i < count; ++i) offsets[i + 1] = offsets[i] + ts[i].size;
  const auto& table = detail::active_table();
  detail::StepRange<T> fn;
  if constexpr (std::is_same_v<T, float>)
    fn = table.step_f32[kind];
  else
    fn = table.step_f64[kind];
  const C* cs = coeffs.data();
  detail::for_each_share(offsets.data(), count, detail::threads_for(offsets[count] / 4 * work),
                         [&](std::size_t t, std::int64_t b, std::int64_t e) {
                           fn(&cs[t], ts[t], b, e);
                         });
  for (std::size_t i = 0; i < count; ++i) ts[i].step += 1;
}

template <class C>
std::vector<C>& coeff_buffer(std::size_t count) {
  thread_local std::vector<C> v;
  v.resize(count);
  return v;
}

int wd_mode(double wd, bool decoupled) { return wd == 0.0 ? 0 : (decoupled ? 2 : 1); }

// ---- SGD --------------------------------------------------------------------
template <class T>
void sgd_impl(const SGDOptions& o, ParamSlot<T>* ts, std::size_t count) {
  validate(o);
  const bool mom = o.momentum != 0.0;
  check_tensors(ts, count, mom ? 1u : 0u, "SGD with momentum");
  auto& cs = coeff_buffer<detail::SGDCoeffs>(count);
  for (std::size_t i = 0; i < count; ++i)
    cs[i] = {-o.lr, o.momentum, 1.0 - o.dampening, o.weight_decay, o.maximize ? -1.0 : 1.0,
             o.nesterov, mom, mom && !ts[i].initialized};
  run(detail::kSGD, cs, ts, count, mom ? weight::kSGDMomentum : weight::kSGD);
  if (mom)
    for (std::size_t i = 0; i < count; ++i) ts[i].initialized = 1;
}

// ---- Adam / AdamW -------------------------------------------------------------
// Adam's bias corrections at a step, 1 − β₁ᵗ and (1 − β₂ᵗ)^½, as torch
// computes them (three pow calls, about 60 ns), remembered per thread for
// the last steps seen: a model's steps are counted from 1 again by every
// one-vs-rest problem of a linear model and every fit of a model
// selection, and small fits take thousands of steps of a few hundred
// nanoseconds each.  (The same values, so the same bits.)
struct AdamCorrections {
  double bc1, bc2_sqrt;
};
AdamCorrections adam_corrections(double beta1, double beta2, std::int64_t t) {
  struct Entry {
    double beta1, beta2;
    std::int64_t t;
    AdamCorrections c;
  };
  constexpr std::size_t kEntries = 2048;
  thread_local std::vector<Entry> memo;
  if (memo.empty()) memo.assign(kEntries, Entry{-1.0, -1.0, -1, {0.0, 0.0}});
  Entry& e = memo[static_cast<std::size_t>(static_cast<std::uint64_t>(t) % kEntries)];
  if (e.t == t && e.beta1 == beta1 && e.beta2 == beta2) return e.c;
  const double bc1 = 1 - std::pow(beta1, double(t));
  const double bc2 = 1 - std::pow(beta2, double(t));
  e = {beta1, beta2, t, {bc1, std::pow(bc2, 0.5)}};
  return e.c;
}

template <class T>
void adam_impl(const AdamOptions& o, ParamSlot<T>* ts, std::size_t count) {
  validate(o);
  check_tensors(ts, count, o.amsgrad ? 7u : 3u, "Adam");
  auto& cs = coeff_buffer<detail::AdamCoeffs>(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0 && ts[i].step == ts[i - 1].step) {
      cs[i] = cs[i - 1];
      continue;
    }
    const AdamCorrections bc = adam_corrections(o.beta1, o.beta2, ts[i].step + 1);
    cs[i] = {-(o.lr / bc.bc1), bc.bc2_sqrt, 1 - o.beta1, o.beta2, 1 - o.beta2, o.eps,
             o.weight_decay, 1 - o.lr * o.weight_decay, o.maximize ? -1.0 : 1.0, o.amsgrad,
             wd_mode(o.weight_decay, o.decoupled_weight_decay)};
  }
  run(detail::kAdam, cs, ts, count, weight::kAdam);
}

// ---- RMSprop ----------------------------------------------------------------
template <class T>
void rmsprop_impl(const RMSpropOptions& o, ParamSlot<T>* ts, std::size_t count) {
  validate(o);
  const bool mom = o.momentum > 0.0;
  check_tensors(ts, count, 1u | (mom ? 2u : 0u) | (o.centered ? 4u : 0u), "RMSprop");
  auto& cs = coeff_buffer<detail::RMSpropCoeffs>(count);
  for (std::size_t i = 0; i < count; ++i)
    cs[i] = {-o.lr, o.alpha, 1 - o.alpha, 1 - o.alpha, o.eps, o.weight_decay, o.momentum,
             o.maximize ? -1.0 : 1.0, o.centered, mom};
  run(detail::kRMSprop, cs, ts, count, weight::kRMSprop);
}

// ---- Adagrad ----------------------------------------------------------------
template <class T>
void adagrad_impl(const AdagradOptions& o, ParamSlot<T>* ts, std::size_t count) {
  validate(o);
  check_tensors(ts, count, 1u, "Adagrad");
  auto& cs = coeff_buffer<detail::AdagradCoeffs>(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0 && ts[i].step == ts[i - 1].step) {
      cs[i] = cs[i - 1];
      continue;
    }
    const double step = double(ts[i].step + 1);
    const double clr = o.lr / (1 + (step - 1) * o.lr_decay);
    cs[i] = {-clr, o.eps, o.weight_decay, o.maximize ? -1.0 : 1.0};
  }
  run(detail::kAdagrad, cs, ts, count, weight::kAdagrad);
}

// ---- Adadelta ---------------------------------------------------------------
template <class T>
void adadelta_impl(const AdadeltaOptions& o, ParamSlot<T>* ts, std::size_t count) {
  validate(o);
  check_tensors(ts, count, 3u, "Adadelta");
  auto& cs = coeff_buffer<detail::AdadeltaCoeffs>(count);
  for (std::size_t i = 0; i < count; ++i)
    cs[i] = {-o.lr, o.rho, 1 - o.rho, o.eps, o.weight_decay, o.maximize ? -1.0 : 1.0};
  run(detail::kAdadelta, cs, ts, count, weight::kAdadelta);
}

// ---- Adamax -----------------------------------------------------------------
template <class T>
void adamax_impl(const AdamaxOptions& o, ParamSlot<T>* ts, std::size_t count) {
  validate(o);
  check_tensors(ts, count, 3u, "Adamax");
  auto& cs = coeff_buffer<detail::AdamaxCoeffs>(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0 && ts[i].step == ts[i - 1].step) {
      cs[i] = cs[i - 1];
      continue;
    }
    const double step = double(ts[i].step + 1);
    const double clr = o.lr / (1 - std::pow(o.beta1, step));
    cs[i] = {-clr, 1 - o.beta1, o.beta2, o.eps, o.weight_decay, o.maximize ? -1.0 : 1.0};
  }
  run(detail::kAdamax, cs, ts, count, weight::kAdamax);
}

// ---- NAdam ------------------------------------------------------------------
template <class T>
void nadam_impl(const NAdamOptions& o, ParamSlot<T>* ts, std::size_t count) {
  validate(o);
  check_tensors(ts, count, 3u, "NAdam");
  auto& cs = coeff_buffer<detail::NAdamCoeffs>(count);
  thread_local std::vector<double> next_mu_product;
  next_mu_product.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0 && ts[i].step == ts[i - 1].step && ts[i].scalar == ts[i - 1].scalar) {
      cs[i] = cs[i - 1];
      next_mu_product[i] = next_mu_product[i - 1];
      continue;
    }
    const double step = double(ts[i].step + 1);
    const double bc2 = 1 - std::pow(o.beta2, step);
    const double mu = o.beta1 * (1.0 - 0.5 * std::pow(0.96, step * o.momentum_decay));
    const double mu_next = o.beta1 * (1.0 - 0.5 * std::pow(0.96, (step + 1) * o.momentum_decay));
    // torch keeps mu_product in a float32 scalar tensor: round like it does.
    const double mu_product = double(float(ts[i].scalar) * float(mu));
    next_mu_product[i] = mu_product;
    const double mu_product_next = mu_product * mu_next;
    cs[i] = {-o.lr * (1.0 - mu) / (1.0 - mu_product),
             (-o.lr * mu_next) / (1.0 - mu_product_next),
             bc2, 1 - o.beta1, o.beta2, 1 - o.beta2, o.eps, o.weight_decay,
             1 - o.lr * o.weight_decay, o.maximize ? -1.0 : 1.0,
             wd_mode(o.weight_decay, o.decoupled_weight_decay)};
  }
  // Commit the scalar state only after the kernels (which cannot fail) ran.
  run(detail::kNAdam, cs, ts, count, weight::kNAdam);
  for (std::size_t i = 0; i < count; ++i) ts[i].scalar = next_mu_product[i];
}

// ---- RAdam ------------------------------------------------------------------
template <class T>
void radam_impl(const RAdamOptions& o, ParamSlot<T>* ts, std::size_t count) {
  validate(o);
  check_tensors(ts, count, 3u, "RAdam");
  auto& cs = coeff_buffer<detail::RAdamCoeffs>(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0 && ts[i].step == ts[i - 1].step) {
      cs[i] = cs[i - 1];
      continue;
    }
    const double step = double(ts[i].step + 1);
    const double bc1 = 1 - std::pow(o.beta1, step);
    const double bc2 = 1 - std::pow(o.beta2, step);
    const double rho_inf = 2 / (1 - o.beta2) - 1;
    const double rho_t = rho_inf - 2 * step * std::pow(o.beta2, step) / bc2;
    const bool rectified = rho_t > 5.0;
    const double rect =
        rectified ? std::pow((rho_t - 4) * (rho_t - 2) * rho_inf /
                                 ((rho_inf - 4) * (rho_inf - 2) * rho_t),
                             0.5)
                  : 1.0;
    cs[i] = {o.lr, bc1, std::pow(bc2, 0.5), rect, 1 - o.beta1, o.beta2, 1 - o.beta2, o.eps,
             o.weight_decay, 1 - o.lr * o.weight_decay, o.maximize ? -1.0 : 1.0,
             wd_mode(o.weight_decay, o.decoupled_weight_decay), rectified};
  }
  run(detail::kRAdam, cs, ts, count, weight::kRAdam);
}

// ---- Lion -------------------------------------------------------------------
template <class T>
void lion_impl(const LionOptions& o, ParamSlot<T>* ts, std::size_t count) {
  validate(o);
  check_tensors(ts, count, 1u, "Lion");
  auto& cs = coeff_buffer<detail::LionCoeffs>(count);
  for (std::size_t i = 0; i < count; ++i)
    cs[i] = {-o.lr, 1 - o.beta1, 1 - o.beta2, 1 - o.lr * o.weight_decay,
             o.maximize ? -1.0 : 1.0, o.weight_decay != 0.0};
  run(detail::kLion, cs, ts, count, weight::kLion);
}

}  // namespace

// ---- validation -----------------------------------------------------------------
void validate(const SGDOptions& o) {
  check_nonneg("lr", o.lr);
  check_nonneg("momentum", o.momentum);
  check_nonneg("weight_decay", o.weight_decay);
  if (!std::isfinite(o.dampening))
    throw std::invalid_argument("dampening must be finite, got " + fmt(o.dampening));
  if (o.nesterov && (o.momentum <= 0.0 || o.dampening != 0.0))
    throw std::invalid_argument("nesterov momentum requires a momentum > 0 and zero dampening");
}
namespace {
// The Adam family's common options: lr, betas, eps, weight_decay.
template <class O>
void check_adam_family(const O& o) {
  check_nonneg("lr", o.lr);
  check_beta("beta1 (betas[0])", o.beta1);
  check_beta("beta2 (betas[1])", o.beta2);
  check_nonneg("eps", o.eps);
  check_nonneg("weight_decay", o.weight_decay);
}
}  // namespace

void validate(const AdamOptions& o) { check_adam_family(o); }
void validate(const AdamaxOptions& o) { check_adam_family(o); }
void validate(const RAdamOptions& o) { check_adam_family(o); }
void validate(const NAdamOptions& o) {
  check_adam_family(o);
  check_nonneg("momentum_decay", o.momentum_decay);
}
void validate(const RMSpropOptions& o) {
  check_nonneg("lr", o.lr);
  check_nonneg("alpha", o.alpha);
  check_nonneg("eps", o.eps);
  check_nonneg("weight_decay", o.weight_decay);
  check_nonneg("momentum", o.momentum);
}
void validate(const AdagradOptions& o) {
  check_nonneg("lr", o.lr);
  check_nonneg("lr_decay", o.lr_decay);
  check_nonneg("weight_decay", o.weight_decay);
  check_nonneg("eps", o.eps);
}
void validate(const AdadeltaOptions& o) {
  check_nonneg("lr", o.lr);
  check_unit("rho", o.rho);
  check_nonneg("eps", o.eps);
  check_nonneg("weight_decay", o.weight_decay);
}
void validate(const LionOptions& o) {
  check_nonneg("lr", o.lr);
  check_beta("beta1 (betas[0])", o.beta1);
  check_beta("beta2 (betas[1])", o.beta2);
  check_nonneg("weight_decay", o.weight_decay);
}

#define GDCORE_DEFINE_STEP(name, Options)                                             \
  void name##_step(const Options& o, ParamSlot<float>* ts, std::size_t n) {           \
    name##_impl(o, ts, n);                                                             \
  }                                                                                    \
  void name##_step(const Options& o, ParamSlot<double>* ts, std::size_t n) {          \
    name##_impl(o, ts, n);                                                             \
  }

GDCORE_DEFINE_STEP(sgd, SGDOptions)
GDCORE_DEFINE_STEP(adam, AdamOptions)
GDCORE_DEFINE_STEP(rmsprop, RMSpropOptions)
GDCORE_DEFINE_STEP(adagrad, AdagradOptions)
GDCORE_DEFINE_STEP(adadelta, AdadeltaOptions)
GDCORE_DEFINE_STEP(adamax, AdamaxOptions)
GDCORE_DEFINE_STEP(nadam, NAdamOptions)
GDCORE_DEFINE_STEP(radam, RAdamOptions)
GDCORE_DEFINE_STEP(lion, LionOptions)

}  // namespace gd
