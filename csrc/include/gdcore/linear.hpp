// gdcore public C++ API: fused training loops of linear models.
//
// minibatch_epoch runs a whole pass over the data in one call: for each
// mini-batch it gathers the rows, computes the margins, the loss derivatives,
// the gradient Xᵦᵀr / |B| + penalty, and applies the chosen optimizer's fused
// update to the weights and the intercept, with the batch's learning rate.
// Rows are processed in fixed blocks and reduced in a fixed order, so the
// result does not depend on the number of threads or the ISA path.
#pragma once

#include <cstdint>
#include <variant>

#include "gdcore/losses.hpp"
#include "gdcore/optim.hpp"

namespace gd {

enum class Penalty : int { none = 0, l2 = 1, l1 = 2, elasticnet = 3 };

/// Dense data: X is n × d row-major; y holds n targets (classification
/// losses: −1/+1); sample_weight is null (all ones) or n weights.
template <class T>
struct DenseData {
  const T* X = nullptr;
  const T* y = nullptr;
  const T* sample_weight = nullptr;
  std::int64_t n = 0, d = 0;
};

/// Any gdcore optimizer's options; its `lr` is overwritten per batch.
using OptimizerOptions = std::variant<SGDOptions, AdamOptions, RMSpropOptions, AdagradOptions,
                                      AdadeltaOptions, AdamaxOptions, NAdamOptions,
                                      RAdamOptions, LionOptions>;

struct MinibatchOptions {
  Loss loss;
  Penalty penalty = Penalty::l2;
  double alpha = 1e-4;     // penalty strength
  double l1_ratio = 0.15;  // elastic-net mixing
  bool fit_intercept = true;
  std::int64_t batch_size = 32;
};

/// The model and its optimizer state: coef.param → d weights, intercept.param
/// → 1 value; their state buffers and counters as for the optimizer's
/// *_step function (grad pointers are set by the loop).
template <class T>
struct LinearModel {
  ParamSlot<T> coef;
  ParamSlot<T> intercept;
};

/// One pass over rows order[0..count) in mini-batches of batch_size; batch k
/// uses learning rate lr[k] (ceil(count / batch_size) entries).  Returns
/// Σ sample_weight·loss over the rows, each evaluated with the weights in
/// force before its batch's update.  Throws std::invalid_argument for bad
/// options or row indices, before anything is written.
double minibatch_epoch(const DenseData<float>& data, const std::int64_t* order,
                       std::int64_t count, const MinibatchOptions& options,
                       const OptimizerOptions& optimizer, const double* lr,
                       LinearModel<float>& model);
double minibatch_epoch(const DenseData<double>& data, const std::int64_t* order,
                       std::int64_t count, const MinibatchOptions& options,
                       const OptimizerOptions& optimizer, const double* lr,
                       LinearModel<double>& model);

/// Decision values p = X·w + b for every row (fixed-order dot products).
void decision_function(const DenseData<float>& data, const float* w, float b, float* out);
void decision_function(const DenseData<double>& data, const double* w, double b, double* out);

}  // namespace gd
