// gdcore public C++ API: fused training loops of linear models.
//
// minibatch_epoch runs a whole pass over the data in one call: for each
// mini-batch it gathers the rows, computes the margins, the loss derivatives,
// the gradient Xᵦᵀr / |B| + the L2 part of the penalty, and applies the
// chosen optimizer's fused update to the weights and the intercept, with the
// batch's learning rate, then the L1 part of the penalty (below).
// Rows are processed in fixed blocks and reduced in a fixed order, so the
// result does not depend on the number of threads or the ISA path.
//
// Penalties: the L2 part (1 − ρ)·α·w is part of the gradient (ρ = 0 for l2,
// 1 for l1, l1_ratio for elasticnet); the L1 part ρ·α is applied after each
// batch's optimizer step by the cumulative penalty with truncation
// (Tsuruoka, Tsujii and Ananiadou, 2009, "Stochastic gradient descent
// training for L1-regularized log-linear models with cumulative penalty"),
// which gives exact zeros, its threshold growing per weight by the
// proximal step in the optimizer's own metric:
//   u_j ← u_j + lr_k·α·ρ·s_j
//   for every weight j (not the intercepts), z = w_j:
//     z > 0: w_j ← max(0, z − (u_j + q_j));  z < 0: w_j ← min(0, z + (u_j − q_j))
//     q_j ← q_j + (w_j − z)
// where s_j is the optimizer's per-coordinate step scale from its state after
// the step (t: the step count after it): 1 for SGD (any momentum) and Lion;
// Adam/AdamW, NAdam 1/(√v_j/√(1−β2ᵗ) + eps) (v: exp_avg_sq, max_exp_avg_sq
// with amsgrad); RAdam r_t·√(1−β2ᵗ)/(√v_j + eps) while rectified (ρ_t > 5),
// else 1; RMSprop 1/(√square_avg_j + eps), centered 1/(√(square_avg_j −
// grad_avg_j²) + eps); Adagrad (1/(1 + (t−1)·lr_decay))/(√sum_j + eps);
// Adamax 1/exp_inf_j; Adadelta √(acc_delta_j + eps)/√(square_avg_j + eps).
// Elementwise in double (w_j and q_j rounded to T), on one thread.
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
/// *_step function (grad pointers are set by the loop).  With Penalty::l1 or
/// elasticnet, the cumulative L1 penalty's state (see above): l1_u → coef.size
/// doubles, the total L1 penalty each weight could have received, l1_q →
/// coef.size values, the penalty each weight did receive; both are updated in
/// place and carry over between calls like the optimizer state (start them
/// at 0).  l1_q null: zeroed buffers for this call only (l1_u is then
/// ignored); l1_q given: l1_u must be too.
template <class T>
struct LinearModel {
  ParamSlot<T> coef;
  ParamSlot<T> intercept;
  T* l1_q = nullptr;
  double* l1_u = nullptr;
};

/// One pass over rows order[0..count) in mini-batches of batch_size; batch k
/// uses learning rate lr[k] (ceil(count / batch_size) entries).  Returns
/// Σ sample_weight·loss over the rows, each evaluated with the weights in
/// force before its batch's update — NaN when any margin was not finite
/// (NaN or infinity in X or in the weights), whatever the loss: one pass
/// both trains and proves X finite.  Throws std::invalid_argument for bad
/// options, row indices or learning rates (each finite and >= 0), or when
/// an array the pass writes (weights, optimizer state, L1 state) shares
/// memory with another array it reads or writes, before anything is
/// written.
double minibatch_epoch(const DenseData<float>& data, const std::int64_t* order,
                       std::int64_t count, const MinibatchOptions& options,
                       const OptimizerOptions& optimizer, const double* lr,
                       LinearModel<float>& model);
double minibatch_epoch(const DenseData<double>& data, const std::int64_t* order,
                       std::int64_t count, const MinibatchOptions& options,
                       const OptimizerOptions& optimizer, const double* lr,
                       LinearModel<double>& model);

/// What minibatch_passes reports after each pass.
struct PassSummary {
  double loss = 0.0;     // what minibatch_epoch returns for the pass
  double sq_norm = 0.0;  // Σ coef_j², by dot() on the weights in double
  bool finite = true;    // coef, intercept and their optimizer state all finite
};

/// Several passes over dense rows in one call: order holds count / pass_rows
/// consecutive passes of pass_rows rows each (count a multiple of
/// pass_rows >= 1), and pass p is exactly minibatch_epoch over its rows, its
/// batches taking lr[p·nb .. (p+1)·nb), nb = ceil(pass_rows / batch_size).
/// After pass p it writes out[p] (count / pass_rows entries).  For fits of
/// small data, where a pass is shorter than the steps a caller takes
/// between passes.  Everything is checked, as for minibatch_epoch and out
/// sharing no memory with what the passes read or write, before the first
/// pass writes.
void minibatch_passes(const DenseData<float>& data, const std::int64_t* order, std::int64_t count,
                      std::int64_t pass_rows, const MinibatchOptions& options,
                      const OptimizerOptions& optimizer, const double* lr,
                      LinearModel<float>& model, PassSummary* out);
void minibatch_passes(const DenseData<double>& data, const std::int64_t* order, std::int64_t count,
                      std::int64_t pass_rows, const MinibatchOptions& options,
                      const OptimizerOptions& optimizer, const double* lr,
                      LinearModel<double>& model, PassSummary* out);

// ---- scikit-learn's per-sample SGD -----------------------------------------
//
// plain_sgd_epoch is scikit-learn's _plain_sgd for one pass: one sample at a
// time, the L2 penalty applied by the weight-scale trick (w = wscale·v, so an
// L2 step costs O(1) and a sample O(nnz)), the learning rates "constant",
// "optimal" and "invscaling" with scikit-learn's formulas, averaged SGD, and
// the cumulative L1 penalty with truncation (Tsuruoka et al., 2009).  The
// state carries over between passes; plain_sgd_finalize folds the scale into
// the weights.

/// CSR data: row i holds data[indptr[i] .. indptr[i+1]) at columns indices[..].
/// Index type I: std::int64_t, or std::int32_t (scipy.sparse's usual one).
template <class T, class I = std::int64_t>
struct CsrData {
  const T* data = nullptr;
  const I* indices = nullptr;
  const I* indptr = nullptr;
  const T* y = nullptr;
  const T* sample_weight = nullptr;  // class weight folded in; null: all ones
  std::int64_t n = 0, d = 0;
  // The epochs check the structure (indptr monotone from 0, indices in
  // [0, d)) in O(nnz) before reading.  A caller running several epochs over
  // the same, unchanged arrays may set this after the first call passed;
  // invalid arrays are then undefined behaviour.
  bool structure_checked = false;
};

/// Whether minibatch_epoch on CSR rows takes the lazy step below: SGDOptions
/// without momentum, with Penalty::none or l2.
bool sparse_step_is_lazy(const OptimizerOptions& optimizer, Penalty penalty);

/// minibatch_epoch on CSR rows: O(nnz) margins and gradient per batch.  With
/// SGDOptions without momentum and Penalty::none or l2 the update is O(nnz of
/// the batch) too (sparse_step_is_lazy): during the pass the weights are scale·coef (the decay
/// 1 − lr(±alpha + weight_decay) of a step multiplies scale, which is folded
/// into coef when it leaves [1e-9, 1e9] and at the end), on one thread;
/// other optimizers and penalties update every weight once per batch (O(d)).
double minibatch_epoch(const CsrData<float>& data, const std::int64_t* order,
                       std::int64_t count, const MinibatchOptions& options,
                       const OptimizerOptions& optimizer, const double* lr,
                       LinearModel<float>& model);
double minibatch_epoch(const CsrData<double>& data, const std::int64_t* order,
                       std::int64_t count, const MinibatchOptions& options,
                       const OptimizerOptions& optimizer, const double* lr,
                       LinearModel<double>& model);
double minibatch_epoch(const CsrData<float, std::int32_t>& data, const std::int64_t* order,
                       std::int64_t count, const MinibatchOptions& options,
                       const OptimizerOptions& optimizer, const double* lr,
                       LinearModel<float>& model);
double minibatch_epoch(const CsrData<double, std::int32_t>& data, const std::int64_t* order,
                       std::int64_t count, const MinibatchOptions& options,
                       const OptimizerOptions& optimizer, const double* lr,
                       LinearModel<double>& model);

enum class LearningRate : int { constant = 0, optimal = 1, invscaling = 2 };

struct PlainSGDOptions {
  Loss loss;
  Penalty penalty = Penalty::l2;
  double alpha = 1e-4, l1_ratio = 0.15;
  LearningRate learning_rate = LearningRate::optimal;
  double eta0 = 0.0, power_t = 0.5;
  // "optimal": eta = 1 / (alpha (optimal_init + t − 1)); must be set (> 0)
  // for that rate: scikit-learn's heuristic is 1 / (eta_1 · alpha) with
  // eta_1 = typw / max(1, |dloss(1, −typw)|), typw = sqrt(1 / sqrt(alpha))
  double optimal_init = 0.0;
  bool fit_intercept = true;
  double intercept_decay = 1.0;  // scikit-learn uses 0.01 for sparse data
  std::int64_t average = 0;      // > 0: average from sample t = average on
  // Accumulate scikit-learn's objective_sum into state.objective: for every
  // sample its loss plus alpha((1 − ρ)/2·‖w‖² + ρ‖w‖₁) with scikit-learn's
  // running norms (state.sq_norm, state.l1_norm: scaled with w, recomputed
  // over a sample's non-zero features after its step; an O(nnz) pass —
  // only those the penalty reads, ‖w‖² where ρ < 1 and ‖w‖₁ where ρ > 0,
  // the other set to 0 by the step).
  bool objective = false;
  // > 0: the order visits rows block by block (row r in block r / block,
  // rows inside a block in any order; shuffle="block"), and the loop fetches
  // the next block in memory order while it visits one.  Speed only.  (In
  // any order, over 4 MiB of rows, with more than one thread set
  // (gd::set_num_threads) and a processor free, a second thread reads the
  // rows ahead of the steps: by blocks with `block`, row by row otherwise.)
  std::int64_t block = 0;
  // The data's y and sample_weight hold one entry per step, in the order's
  // order: y[k] and sample_weight[k] belong to row order[k], k < count (the
  // targets gathered beforehand, so the loop reads them in sequence rather
  // than from a random place per row).  Otherwise y[i] belongs to row i.
  bool targets_in_order = false;
};

/// Model state of the per-sample algorithm.  w holds v (the weights are
/// wscale·v until finalize); aw (may be null unless averaging) the averaged
/// weights in scikit-learn's (average_a, average_b) representation; q (may be
/// null unless L1) the L1 penalty actually applied per weight.
template <class T>
struct PlainSGDState {
  T* w = nullptr;
  T* aw = nullptr;
  T* q = nullptr;
  double intercept = 0.0, average_intercept = 0.0;
  double wscale = 1.0, average_a = 0.0, average_b = 1.0;
  double u = 0.0;  // cumulative L1 penalty
  double t = 1.0;  // scikit-learn's t: 1 + samples seen
  double sq_norm = 0.0, l1_norm = 0.0;  // options.objective: the running norms
  double objective = 0.0;               // options.objective: objective_sum (epochs add to it)
};

/// One pass over rows order[0..count).  Returns Σ loss (unweighted, as
/// scikit-learn's sumloss; NaN when any margin was not finite, as
/// minibatch_epoch).  Throws std::invalid_argument before writing (w, aw
/// and q may not share memory with each other or with the data or order).
double plain_sgd_epoch(const DenseData<float>& data, const std::int64_t* order, std::int64_t count,
                       const PlainSGDOptions& options, PlainSGDState<float>& state);
double plain_sgd_epoch(const DenseData<double>& data, const std::int64_t* order,
                       std::int64_t count, const PlainSGDOptions& options,
                       PlainSGDState<double>& state);
double plain_sgd_epoch(const CsrData<float>& data, const std::int64_t* order, std::int64_t count,
                       const PlainSGDOptions& options, PlainSGDState<float>& state);
double plain_sgd_epoch(const CsrData<double>& data, const std::int64_t* order, std::int64_t count,
                       const PlainSGDOptions& options, PlainSGDState<double>& state);
double plain_sgd_epoch(const CsrData<float, std::int32_t>& data, const std::int64_t* order,
                       std::int64_t count, const PlainSGDOptions& options,
                       PlainSGDState<float>& state);
double plain_sgd_epoch(const CsrData<double, std::int32_t>& data, const std::int64_t* order,
                       std::int64_t count, const PlainSGDOptions& options,
                       PlainSGDState<double>& state);

/// Fold wscale (and the averaging representation) into w and aw, d weights.
void plain_sgd_finalize(PlainSGDState<float>& state, std::int64_t d);
void plain_sgd_finalize(PlainSGDState<double>& state, std::int64_t d);

/// Softmax (multinomial) regression over k classes, one fused pass in
/// mini-batches: coef.param holds W (k × d, row-major, coef.size = k·d),
/// intercept.param the k intercepts (intercept.size = k); y holds class
/// indices 0 … k−1 (as T).  For each batch: logits = X_B Wᵀ + b, residuals
/// R = sw·(softmax − onehot), gradient Rᵀ X_B / |B| + (1 − ρ)·α·W, intercept
/// gradient Σ R / |B|, then the optimizer's update and the cumulative L1
/// truncation of every entry of W (l1_q: k·d values).  Returns
/// Σ sw·(−log p_y) (NaN when any logit was not finite).  Same fixed-order
/// reductions as minibatch_epoch.
double multinomial_epoch(const DenseData<float>& data, std::int64_t n_classes,
                         const std::int64_t* order, std::int64_t count,
                         const MinibatchOptions& options, const OptimizerOptions& optimizer,
                         const double* lr, LinearModel<float>& model);
double multinomial_epoch(const DenseData<double>& data, std::int64_t n_classes,
                         const std::int64_t* order, std::int64_t count,
                         const MinibatchOptions& options, const OptimizerOptions& optimizer,
                         const double* lr, LinearModel<double>& model);

/// multinomial_epoch on CSR rows (structure checked as for minibatch_epoch's
/// CSR overloads, unless data.structure_checked): logits and residuals cost
/// O(k·nnz) per row and the batch's gradient Rᵀ X_B is summed over its rows
/// in row order, O(k·nnz of the batch); the optimizer's update (and the L1
/// truncation) stays dense over the k × d weights, once per batch.  Equal
/// to the dense overload on the same data up to rounding (the sums run in
/// another order); the same bits for every thread count and ISA path.
double multinomial_epoch(const CsrData<float>& data, std::int64_t n_classes,
                         const std::int64_t* order, std::int64_t count,
                         const MinibatchOptions& options, const OptimizerOptions& optimizer,
                         const double* lr, LinearModel<float>& model);
double multinomial_epoch(const CsrData<float, std::int32_t>& data, std::int64_t n_classes,
                         const std::int64_t* order, std::int64_t count,
                         const MinibatchOptions& options, const OptimizerOptions& optimizer,
                         const double* lr, LinearModel<float>& model);
double multinomial_epoch(const CsrData<double>& data, std::int64_t n_classes,
                         const std::int64_t* order, std::int64_t count,
                         const MinibatchOptions& options, const OptimizerOptions& optimizer,
                         const double* lr, LinearModel<double>& model);
double multinomial_epoch(const CsrData<double, std::int32_t>& data, std::int64_t n_classes,
                         const std::int64_t* order, std::int64_t count,
                         const MinibatchOptions& options, const OptimizerOptions& optimizer,
                         const double* lr, LinearModel<double>& model);

/// The row kernels of the per-sample loop, on the active ISA: the
/// fixed-order dot product Σ x_i·w_i (element i goes to partial sum i mod P,
/// P = 32 for float and 16 for double, the partials combined pairwise) and
/// the fused step w ← w + a·x followed
/// by dot(xn, w) (the same bits as the two calls in turn).
float dot(const float* x, const float* w, std::int64_t n);
double dot(const double* x, const double* w, std::int64_t n);
float axpy_dot(float* w, const float* x, float a, const float* xn, std::int64_t n);
double axpy_dot(double* w, const double* x, double a, const double* xn, std::int64_t n);

/// The row order of a pass in shuffled blocks: rows 0 … n−1 cut into blocks
/// of `size` (the last one n − (n_blocks−1)·size rows), block blocks[k]
/// visited k-th, the rows of a full block in the order `within`, those of the
/// short last block in the same relative order.  blocks: a permutation of
/// 0 … n_blocks−1 (n_blocks = ⌈n / size⌉); within: a permutation of
/// 0 … min(size, n)−1.  Writes out[0..n) (8 bytes per row, on the threads).
/// Throws std::invalid_argument before writing when an argument is not so,
/// or when out shares memory with blocks or within.
void block_order(const std::int64_t* blocks, std::int64_t n_blocks, const std::int64_t* within,
                 std::int64_t within_size, std::int64_t size, std::int64_t n, std::int64_t* out);

/// One pass over integer class labels y[0..n): the smallest and largest
/// label, the first, how many labels equal the first (itself included) and
/// how many neighbours differ (y[i] != y[i−1]).  Two labels exactly when
/// hi − lo = 1: then hi occurs same_as_first times when first = hi, else
/// n − same_as_first times.  On the threads; 4 or 8 bytes per label.
struct LabelSummary {
  std::int64_t lo = 0, hi = 0, first = 0, same_as_first = 0, changes = 0;
};
LabelSummary label_summary(const std::int64_t* y, std::int64_t n);
LabelSummary label_summary(const std::int32_t* y, std::int64_t n);

/// out[i] = +1 where y[i] = positive, −1 elsewhere (the binary losses'
/// targets), on the threads.  Throws std::invalid_argument before writing
/// when out shares memory with y.
void signed_targets(const std::int64_t* y, std::int64_t n, std::int64_t positive, float* out);
void signed_targets(const std::int64_t* y, std::int64_t n, std::int64_t positive, double* out);
void signed_targets(const std::int32_t* y, std::int64_t n, std::int64_t positive, float* out);
void signed_targets(const std::int32_t* y, std::int64_t n, std::int64_t positive, double* out);

/// Draws positions [begin, end) of a forward Fisher–Yates shuffle of
/// order[0..n): for k = begin … end−1, order[k] is swapped with order[j], j
/// uniform in [k, n).  Afterwards order[0..end) is final and order[end..n)
/// holds the other entries, so a shuffle can be drawn in pieces (one pass
/// may read order[0..end) while [end, n) is drawn), and drawing [0, a) then
/// [a, n) gives the same order as [0, n).  The uniform draws come from
/// SplitMix64 with its state in `state`, advanced in place (Lemire's
/// multiply-and-reject for the interval): the same seed gives the same
/// order on every platform.  Reads and writes 16 bytes per position, at
/// random places of order[k..n).  Throws std::invalid_argument before
/// writing unless 0 <= begin <= end <= n.
void shuffle_order(std::int64_t* order, std::int64_t n, std::int64_t begin, std::int64_t end,
                   std::uint64_t& state);

/// Decision values p = X·w + b for every row (fixed-order dot products);
/// out may not share memory with the data, rows or w (std::invalid_argument).
void decision_function(const DenseData<float>& data, const float* w, float b, float* out);
void decision_function(const DenseData<double>& data, const double* w, double b, double* out);
/// The same for the rows rows[0..count) only (each in [0, n)): out[k] is
/// row rows[k]'s value; rows are prefetched ahead in that order.
void decision_function(const DenseData<float>& data, const std::int64_t* rows, std::int64_t count,
                       const float* w, float b, float* out);
void decision_function(const DenseData<double>& data, const std::int64_t* rows,
                       std::int64_t count, const double* w, double b, double* out);
/// The same over CSR rows (y and sample_weight are not read): every row when
/// rows is null, else the rows rows[0..count), prefetched ahead in that
/// order.  A sparse row's dot product takes entry j into partial j mod 4,
/// combined as (p0 + p2) + (p1 + p3), the per-sample loop's order.
void decision_function(const CsrData<float, std::int32_t>& data, const std::int64_t* rows,
                       std::int64_t count, const float* w, float b, float* out);
void decision_function(const CsrData<double, std::int32_t>& data, const std::int64_t* rows,
                       std::int64_t count, const double* w, double b, double* out);
void decision_function(const CsrData<float, std::int64_t>& data, const std::int64_t* rows,
                       std::int64_t count, const float* w, float b, float* out);
void decision_function(const CsrData<double, std::int64_t>& data, const std::int64_t* rows,
                       std::int64_t count, const double* w, double b, double* out);

}  // namespace gd
