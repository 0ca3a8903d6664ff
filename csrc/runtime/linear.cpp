// Fused mini-batch epochs of linear models (see gdcore/linear.hpp).
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "gdcore/linear.hpp"
#include "internal.hpp"
#include "rows.hpp"
#include "team_sync.hpp"

namespace gd {
namespace {
#include "loss_defs.inc"

// Rows per gradient block, at most: the partial gradients of blocks are
// summed by a tree fixed by the number of blocks (tree_nodes), so the
// reduction does not depend on the thread count.
constexpr std::int64_t kRowBlock = detail::kMinibatchBlockRows;

// The blocks of a batch of B rows: ⌈B / kRowBlock⌉ of them, block j its
// rows [j·B/nb, (j+1)·B/nb) — sizes differing by one row at most, so that
// threads given the same number of blocks get the same work (rather than
// one of them a short last block: a batch of 488 rows shared 256 : 232).
inline std::int64_t batch_blocks(std::int64_t B) { return (B + kRowBlock - 1) / kRowBlock; }
inline std::int64_t block_begin(std::int64_t B, std::int64_t blk) {
  return blk * B / batch_blocks(B);
}

template <class T>
void apply_step(const OptimizerOptions& opt, double lr, ParamSlot<T>* slots, std::size_t n) {
  std::visit(
      [&](const auto& o0) {
        auto o = o0;
        o.lr = lr;
        using O = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<O, SGDOptions>) sgd_step(o, slots, n);
        else if constexpr (std::is_same_v<O, AdamOptions>) adam_step(o, slots, n);
        else if constexpr (std::is_same_v<O, RMSpropOptions>) rmsprop_step(o, slots, n);
        else if constexpr (std::is_same_v<O, AdagradOptions>) adagrad_step(o, slots, n);
        else if constexpr (std::is_same_v<O, AdadeltaOptions>) adadelta_step(o, slots, n);
        else if constexpr (std::is_same_v<O, AdamaxOptions>) adamax_step(o, slots, n);
        else if constexpr (std::is_same_v<O, NAdamOptions>) nadam_step(o, slots, n);
        else if constexpr (std::is_same_v<O, RAdamOptions>) radam_step(o, slots, n);
        else lion_step(o, slots, n);
      },
      opt);
}

template <class T>
void check_data(const DenseData<T>& data, bool need_y) {
  if (data.n < 0 || data.d < 0) throw std::invalid_argument("negative data shape");
  if (data.n > 0 && data.d > 0 && data.X == nullptr) throw std::invalid_argument("null X");
  if (need_y && data.n > 0 && data.y == nullptr) throw std::invalid_argument("null y");
}

// Batches of a pass over `count` rows, `bs` rows each (the last may be
// short): ceil(count / bs), without the overflow of count + bs - 1.
inline std::int64_t batch_count(std::int64_t count, std::int64_t bs) {
  return count > 0 ? (count - 1) / bs + 1 : 0;
}

// The batch size of a pass over `count` rows: a batch larger than the
// pass is the whole pass (the loops size their buffers by it).
inline std::int64_t pass_batch_size(const MinibatchOptions& o, std::int64_t count) {
  return std::min(o.batch_size, std::max<std::int64_t>(count, 1));
}

// The options, and one learning rate per batch of a pass over `count` rows.
void check_minibatch_options(const MinibatchOptions& o, std::int64_t count,
                             const double* lr) {
  if (o.batch_size < 1) throw std::invalid_argument("batch_size must be >= 1");
  detail::check_loss_and_penalty(o.loss, o.penalty);
  if (!(o.alpha >= 0.0) || std::isinf(o.alpha))
    throw std::invalid_argument("alpha must be a finite number >= 0");
  if (!(o.l1_ratio >= 0.0 && o.l1_ratio <= 1.0))
    throw std::invalid_argument("l1_ratio must be in [0, 1]");
  const std::int64_t nbatches = batch_count(count, o.batch_size);
  if (nbatches > 0 && lr == nullptr) throw std::invalid_argument("null learning rates");
  for (std::int64_t k = 0; k < nbatches; ++k)
    if (!(lr[k] >= 0.0) || std::isinf(lr[k]))
      throw std::invalid_argument("learning rates must be finite and >= 0");
}

// The arrays a pass writes: the weights, the intercept, their optimizer
// state and the cumulative L1 penalty's state.
template <class T>
std::vector<detail::Span> model_spans(const LinearModel<T>& model) {
  const std::int64_t nc = model.coef.size, ni = model.intercept.size;
  return {detail::span_of(model.coef.param, nc, "coef"),
          detail::span_of(model.intercept.param, ni, "intercept"),
          detail::span_of(model.coef.state[0], nc, "coef state 0"),
          detail::span_of(model.coef.state[1], nc, "coef state 1"),
          detail::span_of(model.coef.state[2], nc, "coef state 2"),
          detail::span_of(model.intercept.state[0], ni, "intercept state 0"),
          detail::span_of(model.intercept.state[1], ni, "intercept state 1"),
          detail::span_of(model.intercept.state[2], ni, "intercept state 2"),
          detail::span_of(model.l1_q, model.l1_q != nullptr ? nc : 0, "l1_q"),
          detail::span_of(model.l1_u, model.l1_q != nullptr ? nc : 0, "l1_u")};
}

// The arrays a pass writes (model_spans) share no memory with each other or
// with what it reads: the data, the row order and the learning rates
// (checked before any write).
template <class T, class Data>
void check_model_disjoint(const LinearModel<T>& model, const Data& data, const std::int64_t* order,
                          std::int64_t count, const MinibatchOptions& o, const double* lr) {
  std::vector<detail::Span> read = detail::reads_of(data, order, count, "order");
  read.push_back(detail::span_of(lr, o.batch_size >= 1 ? batch_count(count, o.batch_size) : 0, "lr"));
  detail::check_disjoint(model_spans(model), read);
}

// Where a row-block loop prefetches from, `ahead` rows on from row i of the
// block [i0, i1) of the batch starting at `start`: further down the block,
// then in the same block of the next batch (the same thread computes it).
inline std::int64_t prefetch_position(std::int64_t start, std::int64_t bs, std::int64_t i0,
                                      std::int64_t i1, std::int64_t i, std::int64_t ahead) {
  const std::int64_t q = i + ahead;
  return q < i1 ? start + q : start + bs + i0 + (q - i1);
}

// g = g·inv + the gradient of the penalty's L2 part: l2 α·w, elastic net
// (1−ρ)α·w (`l2`); l1 and none: nothing (the L1 part is CumulativeL1's).
// (One loop per penalty, so that each vectorises.)
template <class T>
void average_and_penalise(T* g, const T* w, std::int64_t n, T inv, Penalty penalty, T alpha,
                          T l2) {
  switch (penalty) {
    case Penalty::l2:
      for (std::int64_t j = 0; j < n; ++j) g[j] = g[j] * inv + alpha * w[j];
      break;
    case Penalty::elasticnet:
      for (std::int64_t j = 0; j < n; ++j) g[j] = g[j] * inv + l2 * w[j];
      break;
    default:
      for (std::int64_t j = 0; j < n; ++j) g[j] = g[j] * inv;
      break;
  }
}

// The L1 part of the penalty (l1: ρ = 1, elasticnet: ρ = l1_ratio) as the
// cumulative penalty with truncation of Tsuruoka, Tsujii and Ananiadou
// (2009), after each batch's optimizer step with learning rate lr, the
// threshold growing by the proximal step in the optimizer's own metric:
//   u_j ← u_j + lr·α·ρ·s_j;  for each weight, z = w_j:
//   z > 0: w_j ← max(0, z − (u_j + q_j));  z < 0: w_j ← min(0, z + (u_j − q_j));
//   q_j ← q_j + (w_j − z)
// where s_j is the optimizer's per-coordinate step scale, computed in double
// from its state after the step (t: the slot's step count after the step):
//   SGD (any momentum), Lion: 1
//   Adam / AdamW, NAdam: 1 / (√v_j / √(1 − β2ᵗ) + eps)  (v: exp_avg_sq,
//     max_exp_avg_sq with amsgrad)
//   RAdam: r_t·√(1 − β2ᵗ) / (√v_j + eps) while rectified (ρ_t > 5), else 1
//   RMSprop: 1 / (√square_avg_j + eps); centered 1 / (√(square_avg_j −
//     grad_avg_j²) + eps) (the difference floored at 0)
//   Adagrad: (1 / (1 + (t − 1)·lr_decay)) / (√sum_j + eps)
//   Adamax: 1 / exp_inf_j
//   Adadelta: √(acc_delta_j + eps) / √(square_avg_j + eps)
// Each weight on its own, in double (w_j and q_j rounded to T): the result
// depends on no order, thread count or ISA.  u and q are the model's
// (LinearModel::l1_u, l1_q, coef.size values each, updated in place), or
// this call's own zeroed state when l1_q is null.  Costs one more pass over
// w, q, u (and the optimizer's state) per batch.
template <class T>
class CumulativeL1 {
 public:
  CumulativeL1(const MinibatchOptions& o, const OptimizerOptions& opt, LinearModel<T>& model,
               std::int64_t n)
      : on_(o.penalty == Penalty::l1 || o.penalty == Penalty::elasticnet),
        alpha_(o.alpha),
        rho_(o.penalty == Penalty::l1 ? 1.0 : o.l1_ratio),
        n_(n),
        opt_(opt) {
    if (!on_) return;
    if (model.l1_q != nullptr) {
      if (model.l1_u == nullptr && n > 0)
        throw std::invalid_argument("l1_q and l1_u must be given together");
      q_ = model.l1_q;
      u_ = model.l1_u;
    } else {
      own_q_.assign(static_cast<std::size_t>(n), T(0));
      own_u_.assign(static_cast<std::size_t>(n), 0.0);
      q_ = own_q_.data();
      u_ = own_u_.data();
    }
  }
  // After the optimizer's step on `slot` (the coefficients, step count and
  // state already advanced).
  void apply(double lr, T* w, const ParamSlot<T>& slot) {
    if (!on_) return;
    const double c = lr * alpha_ * rho_;
    const double t = double(slot.step);
    std::visit(
        [&](const auto& oo) {
          using O = std::decay_t<decltype(oo)>;
          if constexpr (std::is_same_v<O, AdamOptions> || std::is_same_v<O, NAdamOptions>) {
            bool amsgrad = false;
            if constexpr (std::is_same_v<O, AdamOptions>) amsgrad = oo.amsgrad;
            const T* v = slot.state[amsgrad ? 2 : 1];
            const double bc2s = std::sqrt(1.0 - std::pow(oo.beta2, t)), eps = oo.eps;
            truncate(c, w, [&](std::int64_t j) {
              return 1.0 / (std::sqrt(double(v[j])) / bc2s + eps);
            });
          } else if constexpr (std::is_same_v<O, RAdamOptions>) {
            const double bc2 = 1.0 - std::pow(oo.beta2, t);
            const double rho_inf = 2 / (1 - oo.beta2) - 1;
            const double rho_t = rho_inf - 2 * t * std::pow(oo.beta2, t) / bc2;
            if (rho_t > 5.0) {
              const double rect = std::pow((rho_t - 4) * (rho_t - 2) * rho_inf /
                                               ((rho_inf - 4) * (rho_inf - 2) * rho_t),
                                           0.5);
              const double f = rect * std::sqrt(bc2), eps = oo.eps;
              const T* v = slot.state[1];
              truncate(c, w, [&](std::int64_t j) { return f / (std::sqrt(double(v[j])) + eps); });
            } else {
              truncate(c, w, [](std::int64_t) { return 1.0; });
            }
          } else if constexpr (std::is_same_v<O, RMSpropOptions>) {
            const T* sq = slot.state[0];
            const double eps = oo.eps;
            if (oo.centered) {
              const T* ga = slot.state[2];
              truncate(c, w, [&](std::int64_t j) {
                const double g = double(ga[j]);
                return 1.0 / (std::sqrt(std::max(0.0, double(sq[j]) - g * g)) + eps);
              });
            } else {
              truncate(c, w, [&](std::int64_t j) { return 1.0 / (std::sqrt(double(sq[j])) + eps); });
            }
          } else if constexpr (std::is_same_v<O, AdagradOptions>) {
            const T* sum = slot.state[0];
            const double f = 1.0 / (1.0 + (t - 1.0) * oo.lr_decay), eps = oo.eps;
            truncate(c, w, [&](std::int64_t j) { return f / (std::sqrt(double(sum[j])) + eps); });
          } else if constexpr (std::is_same_v<O, AdamaxOptions>) {
            const T* inf = slot.state[1];
            truncate(c, w, [&](std::int64_t j) { return 1.0 / double(inf[j]); });
          } else if constexpr (std::is_same_v<O, AdadeltaOptions>) {
            const T* sq = slot.state[0];
            const T* acc = slot.state[1];
            const double eps = oo.eps;
            truncate(c, w, [&](std::int64_t j) {
              return std::sqrt(double(acc[j]) + eps) / std::sqrt(double(sq[j]) + eps);
            });
          } else {  // SGD, Lion
            truncate(c, w, [](std::int64_t) { return 1.0; });
          }
        },
        opt_);
  }

 private:
  template <class Scale>
  void truncate(double c, T* w, Scale&& scale) {
    T* q = q_;
    double* uu = u_;
    // (both candidates, then a select: no branch, so the loop can vectorise)
    for (std::int64_t j = 0; j < n_; ++j) {
      const double u = uu[j] + c * scale(j);
      uu[j] = u;
      const double z = double(w[j]), qj = double(q[j]);
      const double down = std::max(0.0, z - (u + qj)), up = std::min(0.0, z + (u - qj));
      const T wt = T(z > 0.0 ? down : (z < 0.0 ? up : z));
      w[j] = wt;
      q[j] = T(qj + (double(wt) - z));
    }
  }

  bool on_;
  double alpha_, rho_;
  std::int64_t n_;
  const OptimizerOptions& opt_;
  std::vector<T> own_q_;
  std::vector<double> own_u_;
  T* q_ = nullptr;
  double* u_ = nullptr;
};

// The pairwise tree that sums the partial gradients p_0 … p_{nb−1} of a
// batch's nb blocks: at stride s = 1, 2, 4, … each p_i with i a multiple of
// 2s adds p_{i+s} where i + s < nb (a node, covering blocks [i, min(i+2s,
// nb))), so that p_0 ends as the sum; the last addition, the root, writes
// the gradient instead (with one block p_0 is copied there).  The tree
// depends only on nb, so its bits do not depend on who adds which node:
// each thread adds the nodes that lie within its own blocks (a helper's
// sums stay in its cache and thread 0 reads one partial per helper rather
// than every block's), and thread 0 the nodes across threads and the root.
// step(i, j) adds node [i, end) (p_i += p_j) for each node but the root,
// in stride order, where keep(i, end) holds.
template <class Keep, class Step>
void tree_nodes(std::int64_t nb, Keep&& keep, Step&& step) {
  for (std::int64_t s = 1; 2 * s < nb; s *= 2)
    for (std::int64_t i = 0; i + s < nb; i += 2 * s)
      if (keep(i, std::min(i + 2 * s, nb))) step(i, i + s);
}

// The root of the tree of nb ≥ 1 blocks: (i, j) with p_i + p_j the sum
// (j = −1: p_0 alone).
inline std::int64_t tree_root_right(std::int64_t nb) {
  std::int64_t s = 1;
  while (2 * s < nb) s *= 2;
  return nb > 1 ? s : -1;
}

// The partial gradients of a batch's blocks, `width` elements each, a whole
// number of cache lines apart (blocks of different threads share none),
// and the additions of their tree (tree_nodes).
template <class T>
class BlockPartials {
 public:
  BlockPartials(std::int64_t blocks, std::int64_t width, T* gradient)
      : stride_((width + kLine - 1) / kLine * kLine),
        width_(width),
        data_(static_cast<std::size_t>(blocks * stride_)),
        gradient_(gradient) {}
  T* block(std::int64_t blk) { return data_.data() + blk * stride_; }
  /// p_i += p_j; the root writes the gradient p_i + p_j instead (j = −1:
  /// p_i alone).
  void combine(std::int64_t i, std::int64_t j, bool root) {
    const T* a = block(i);
    T* out = root ? gradient_ : block(i);
    if (j < 0) {
      std::copy(a, a + width_, out);
    } else {
      const T* b = block(j);
      for (std::int64_t e = 0; e < width_; ++e) out[e] = a[e] + b[e];
    }
  }

 private:
  static constexpr std::int64_t kLine = 64 / std::int64_t(sizeof(T));
  std::int64_t stride_, width_;
  std::vector<T> data_;
  T* gradient_;
};

// run_batches' warm(k, lo, hi, stop) for a pass visiting rows `order` in
// batches of `bs` whose blocks prefetch `ahead` rows on (prefetch_position):
// the rows of batch k's blocks [lo, hi) past the first `ahead` of each
// (those the previous batch's blocks prefetched), prefetched while stop()
// is false.
template <class GetRow>
auto warm_blocks(const std::int64_t* order, std::int64_t count, std::int64_t bs,
                 std::int64_t ahead, GetRow& row) {
  return [=, &row](std::int64_t k, std::int64_t lo, std::int64_t hi, auto&& stop) {
    const std::int64_t start = k * bs, B = std::min(bs, count - start);
    for (std::int64_t blk = lo; blk < hi; ++blk) {
      const std::int64_t i1 = block_begin(B, blk + 1);
      for (std::int64_t i = block_begin(B, blk) + ahead; i < i1; ++i) {
        if (stop()) return;
        detail::prefetch_row(row(order[start + i]));
      }
    }
  };
}

// The optimizer counters the loop advanced, back into the caller's model.
template <class T>
void keep_counters(LinearModel<T>& model, const ParamSlot<T>* slots) {
  model.coef.step = slots[0].step;
  model.coef.scalar = slots[0].scalar;
  model.coef.initialized = slots[0].initialized;
  model.intercept.step = slots[1].step;
  model.intercept.scalar = slots[1].scalar;
  model.intercept.initialized = slots[1].initialized;
}

// The batches of one pass over `count` rows, `bs` rows each: block(k, blk)
// for every block of batch k (batch_blocks), then the batch's sums —
// reduce(k, blk) for each block in block order (the per-block scalars) and
// combine(i, j, root) for each node of the pairwise tree of its partial
// gradients (tree_nodes: p_i += p_j, or at the root the gradient = p_i +
// p_j, j = −1 for p_i alone) — then finish(k) (the optimizer step), batch
// after batch.  Threads pay when a batch has several blocks of real work
// (`width` elements per row): then one parallel region for the pass, the
// blocks of a batch shared out statically in contiguous ranges (thread t
// always takes the same blocks; thread 0 the last range, the shortest,
// as it also sums and finishes each batch), each thread adding the tree's
// nodes within its range and thread 0 the rest.  The threads are those the
// processors still have (ThreadGrant).  Where the platform can sleep on
// counters (TeamSync), a helper signals when its part of the batch is done
// and thread 0 signals each finished batch, and while a thread waits it
// prefetches its blocks of the next batch (warm(k + 1, lo, hi, stop), stop()
// true once the wait is over: the memory would idle while thread 0 sums
// and steps; defaults on 500 000 x 100 1.04-1.05x faster); elsewhere
// OpenMP's barriers separate the phases.  (Signalling every block, so that
// thread 0 could sum the helpers' blocks as they came, cost the helper more
// than the early sums saved: log_loss 1.1x slower.)
//
// A pass on one thread (batches of at most one block, or the lazy sparse
// step) takes a second thread where one is free and `read_ahead` is given
// (not null): read_ahead(reader) on that thread reads the rows ahead of the
// batches (RowReadAhead; the loop announces each block's first position).
template <class Block, class Reduce, class Combine, class Finish, class Warm,
          class ReadAhead = std::nullptr_t>
void run_batches(std::int64_t count, std::int64_t bs, std::int64_t width, Block&& block,
                 Reduce&& reduce, Combine&& combine, Finish&& finish, Warm&& warm,
                 ReadAhead&& read_ahead = nullptr) {
  const std::int64_t nbatches = batch_count(count, bs);
  auto rows_of = [&](std::int64_t k) { return std::min(bs, count - k * bs); };
  auto blocks_of = [&](std::int64_t k) { return batch_blocks(rows_of(k)); };
  // The range of the nb blocks of a batch that range r of `team` takes
  // (the first nb % team ranges one block more), and the range of block blk.
  auto share = [](std::int64_t nb, std::int64_t team, std::int64_t r, std::int64_t& lo,
                  std::int64_t& hi) {
    const std::int64_t per = nb / team, extra = nb % team;
    lo = r * per + std::min(r, extra);
    hi = lo + per + (r < extra ? 1 : 0);
  };
  auto range_of_block = [](std::int64_t nb, std::int64_t team, std::int64_t blk) {
    const std::int64_t per = nb / team, extra = nb % team, big = extra * (per + 1);
    return blk < big ? blk / (per + 1) : extra + (blk - big) / per;
  };
  // thread t's range: thread 0 the last, helper t the (t−1)-th
  auto range_of_thread = [](std::int64_t t, std::int64_t team) {
    return t == 0 ? team - 1 : t - 1;
  };
  // The blocks of range [lo, hi) of batch k (announce(position) before
  // each) and the tree's nodes within it.
  auto blocks_and_nodes = [&](std::int64_t k, std::int64_t nb, std::int64_t lo, std::int64_t hi,
                              auto&& announce) {
    for (std::int64_t blk = lo; blk < hi; ++blk) {
      announce(k * bs + block_begin(rows_of(k), blk));
      block(k, blk);
    }
    tree_nodes(
        nb, [&](std::int64_t i, std::int64_t end) { return lo <= i && end <= hi; },
        [&](std::int64_t i, std::int64_t j) { combine(i, j, false); });
  };
  // The rest of batch k's sums once every range is done: the scalars in
  // block order, the nodes across ranges, the root.
  auto sums_across = [&](std::int64_t k, std::int64_t nb, std::int64_t team) {
    for (std::int64_t blk = 0; blk < nb; ++blk) reduce(k, blk);
    if (team > 1)
      tree_nodes(
          nb,
          [&](std::int64_t i, std::int64_t end) {
            return range_of_block(nb, team, i) != range_of_block(nb, team, end - 1);
          },
          [&](std::int64_t i, std::int64_t j) { combine(i, j, false); });
    combine(0, tree_root_right(nb), true);
  };
  auto unannounced = [](std::int64_t) {};
  // A team thread's part of batch k: its range's blocks and nodes (returns
  // the batch's block count).
  auto team_part = [&](std::int64_t k, std::int64_t team, std::int64_t tid) {
    const std::int64_t nb = blocks_of(k);
    std::int64_t lo, hi;
    share(nb, team, range_of_thread(tid, team), lo, hi);
    blocks_and_nodes(k, nb, lo, hi, unannounced);
    return nb;
  };
  auto serial_batch = [&](std::int64_t k, auto&& announce) {
    const std::int64_t nb = blocks_of(k);
    blocks_and_nodes(k, nb, 0, nb, announce);
    sums_across(k, nb, 1);
    finish(k);
  };
  // (the grant holds even a serial pass's one thread, so that loops side
  // by side share the processors)
  const int wanted = bs > kRowBlock ? detail::threads_for(std::min(bs, count) * width * 4) : 1;
  constexpr bool kReader = !std::is_same_v<std::decay_t<ReadAhead>, std::nullptr_t>;
  const detail::ThreadGrant grant(kReader && wanted == 1 ? 2 : wanted);
  [[maybe_unused]] const int nt = grant.count();
#ifdef GDCORE_OPENMP
  if constexpr (kReader) {
    if (wanted == 1 && nt > 1 && nbatches > 0) {
      detail::RowReadAhead reader;
      detail::with_reader(
          reader,
          [&] {
            auto announce = [&](std::int64_t position) { reader.enter(position); };
            for (std::int64_t k = 0; k < nbatches; ++k) serial_batch(k, announce);
          },
          read_ahead);
      return;
    }
  }
  if (nt > 1 && nbatches > 0) {
    // An exception may not leave a parallel region: the first one from
    // finish() skips the later finishes (the threads still take part in
    // every hand-off) and is rethrown after the region.
    std::exception_ptr error;  // thread 0's
    auto finish_or_skip = [&](std::int64_t k) {
      if (error) return;
      try {
        finish(k);
      } catch (...) {
        error = std::current_exception();
      }
    };
    if (detail::TeamSync::available() && nbatches < INT32_MAX) {
      detail::TeamSync sync(nt);
#pragma omp parallel num_threads(nt)
      {
        const std::int64_t team = omp_get_num_threads(), tid = omp_get_thread_num();
        for (std::int64_t k = 0; k < nbatches; ++k) {
          const std::int64_t nb = team_part(k, team, tid);
          // while it waits, a thread prefetches its blocks of the next batch
          // (warm stops as soon as the wait is over; not when the process's
          // loops hold more threads than there are processors, where a
          // waiting thread sleeps at once to free its processor)
          std::int64_t next_lo = 0, next_hi = 0;
          if (k + 1 < nbatches && !detail::ThreadGrant::crowded())
            share(blocks_of(k + 1), team, range_of_thread(tid, team), next_lo, next_hi);
          if (tid != 0) {
            sync.post(int(tid), std::int32_t(k + 1));
            warm(k + 1, next_lo, next_hi, [&] { return sync.ready(0, std::int32_t(k + 1)); });
            sync.wait(0, std::int32_t(k + 1));
            continue;
          }
          // the helpers with blocks in this batch: those of ranges 0 …
          // min(nb, team − 1) − 1 (share gives the first ranges the blocks)
          const std::int64_t busy = std::min(nb, team - 1);
          warm(k + 1, next_lo, next_hi, [&] {
            for (std::int64_t t = 1; t <= busy; ++t)
              if (!sync.ready(int(t), std::int32_t(k + 1))) return false;
            return true;
          });
          for (std::int64_t t = 1; t <= busy; ++t) sync.wait(int(t), std::int32_t(k + 1));
          sums_across(k, nb, team);
          finish_or_skip(k);
          sync.post(0, std::int32_t(k + 1));
        }
      }
      if (error) std::rethrow_exception(error);
      return;
    }
#pragma omp parallel num_threads(nt)
    {
      const std::int64_t team = omp_get_num_threads(), tid = omp_get_thread_num();
      for (std::int64_t k = 0; k < nbatches; ++k) {
        const std::int64_t nb = team_part(k, team, tid);
#pragma omp barrier
#pragma omp single
        {
          sums_across(k, nb, team);
          finish_or_skip(k);
        }
      }
    }
    if (error) std::rethrow_exception(error);
    return;
  }
#endif
  for (std::int64_t k = 0; k < nbatches; ++k) serial_batch(k, unannounced);
}

}  // namespace

bool sparse_step_is_lazy(const OptimizerOptions& optimizer, Penalty penalty) {
  const SGDOptions* sgd = std::get_if<SGDOptions>(&optimizer);
  return sgd != nullptr && sgd->momentum == 0.0 &&
         (penalty == Penalty::none || penalty == Penalty::l2);
}

namespace {

template <class T, bool Sparse, class GetRow>
double epoch_impl(const T* X, std::int64_t n, std::int64_t d_, const T* yv, const T* swv,
                  const std::int64_t* order, std::int64_t count, const MinibatchOptions& o,
                  const OptimizerOptions& opt, const double* lr, LinearModel<T>& model,
                  std::int64_t row_bytes, GetRow&& row) {
  check_minibatch_options(o, count, lr);
  detail::check_order(order, count, n);
  if (model.coef.size != d_ || (d_ > 0 && model.coef.param == nullptr))
    throw std::invalid_argument("coef must have one weight per feature");
  if (model.intercept.size != 1 || model.intercept.param == nullptr)
    throw std::invalid_argument("intercept must hold one value");
  std::visit([](const auto& oo) { gd::validate(oo); }, opt);

  const detail::RowKernels<T> K{detail::active_table()};
  const std::int64_t d = d_, bs = pass_batch_size(o, count);
  const int kind = int(o.loss.kind);
  const T param = T(o.loss.param);
  const T alpha = T(o.alpha), l2 = T(o.alpha * (1.0 - o.l1_ratio));
  T* w = model.coef.param;
  T* b = model.intercept.param;
  CumulativeL1<T> l1_penalty(o, opt, model, d);

  std::vector<T> resid(static_cast<std::size_t>(bs));
  const std::int64_t max_blocks = batch_blocks(bs);
  // per block: the residuals' sum and the (weighted) losses' sum, each in row
  // order, so that the serial part of a batch adds one value per block
  std::vector<T> resid_sum(static_cast<std::size_t>(max_blocks));
  std::vector<double> loss_sum(static_cast<std::size_t>(max_blocks));
  std::vector<T> gw(static_cast<std::size_t>(d));
  BlockPartials<T> partials(Sparse ? 0 : max_blocks, d, gw.data());
  T gb = T(0);
  ParamSlot<T> slots[2] = {model.coef, model.intercept};
  slots[0].grad = gw.data();
  slots[1].grad = &gb;
  double total = 0.0;
  const std::int64_t ahead = detail::prefetch_distance(row_bytes);
  const bool fetch_weights = detail::prefetch_weights_pays(d * std::int64_t(sizeof(T)));
  // Sparse rows with plain SGD (no momentum) and an L2 penalty or none: the
  // weights are kept as w = scale·v, so a step costs O(nnz of the batch):
  //   w ← w − lr·(±(X_Bᵀr/|B| + α w) + weight_decay·w)
  //     = decay·w ∓ (lr/|B|)·X_Bᵀr,  decay = 1 − lr(±α + weight_decay):
  // the decay goes into scale, the batch's rows into v (coef holds v during
  // the epoch and w = scale·v after it).  Other optimizers and L1 penalties
  // update all weights once per batch.
  const SGDOptions* lazy_sgd = std::get_if<SGDOptions>(&opt);
  const bool lazy = Sparse && sparse_step_is_lazy(opt, o.penalty);
  double scale = 1.0;
  auto unscale = [&](double factor) {  // v ← factor·v, scale ← 1
    for (std::int64_t j = 0; j < d; ++j) w[j] = T(double(w[j]) * factor);
    scale = 1.0;
  };

  // Margins, residuals (dloss · weight), and per-block partial gradients
  // (dense rows) of one block of batch k (batch_blocks): dense rows in
  // this ISA's minibatch_block kernel (the row kernels and the loss inline
  // there).  Sparse rows accumulate the gradient in row order in finish():
  // a dense partial per block would cost O(d) per block.
  auto block = [&](std::int64_t k, std::int64_t blk) {
    const std::int64_t start = k * bs, B = std::min(bs, count - start);
    const std::int64_t* rows = order + start;
    const T bias = *b;
    const std::int64_t i0 = block_begin(B, blk), i1 = block_begin(B, blk + 1);
    if constexpr (!Sparse) {
      std::int64_t fetch[kRowBlock];
      for (std::int64_t i = i0; i < i1; ++i) {
        const std::int64_t q = prefetch_position(start, bs, i0, i1, i, ahead);
        fetch[i - i0] = q < count ? order[q] : -1;
      }
      detail::MinibatchBlock<T> mb{X, d, rows + i0, i1 - i0, fetch, yv, swv, w, bias, kind,
                                   param, resid.data() + i0, partials.block(blk), T(0), 0.0};
      K.minibatch_block(mb);
      resid_sum[std::size_t(blk)] = mb.resid_sum;
      loss_sum[std::size_t(blk)] = mb.loss_sum;
      return;
    }
    BlockLosses<T, int(kRowBlock)> losses{kind, param};
    T rsum = T(0);
    for (std::int64_t i = i0; i < i1; ++i) {
      const std::int64_t r = rows[i];
      const auto x = row(r);
      const std::int64_t q = prefetch_position(start, bs, i0, i1, i, ahead);
      if (q < count) {
        detail::prefetch_row(row(order[q]));
        detail::prefetch_targets(yv, swv, order[q]);
      }
      if (fetch_weights && i + ahead / 2 < i1)
        detail::prefetch_weights(row(rows[i + ahead / 2]), w);
      const T m = lazy ? T(double(K.dot(x, w)) * scale) + bias : K.dot(x, w) + bias;
      const T ri = losses.row(int(i - i0), yv[r], m, swv ? swv[r] : T(1));
      resid[std::size_t(i)] = ri;
      rsum = rsum + ri;
    }
    resid_sum[std::size_t(blk)] = rsum;
    loss_sum[std::size_t(blk)] = losses.total(int(i1 - i0), [&](const T* z, const T* e, T* out,
                                                                 int n) {
      K.log_loss_values(z, e, out, n);
    });
  };
  // The lazy step of batch k (see above): the decay into scale, the rows
  // into v, the intercept by the optimizer.
  auto lazy_step = [&](std::int64_t k, std::int64_t B, const std::int64_t* rows, T rsum) {
    const double eta = lr[k], sign = lazy_sgd->maximize ? -1.0 : 1.0;
    const double l2_alpha = o.penalty == Penalty::l2 ? o.alpha : 0.0;
    const double decay = 1.0 - eta * (sign * l2_alpha + lazy_sgd->weight_decay);
    if (decay > 0.0 && decay < 1e300) {
      scale *= decay;
      if (scale < 1e-9 || scale > 1e9) unscale(scale);
    } else {
      unscale(scale * decay);
    }
    const double c = -eta * sign / double(B) / scale;
    for (std::int64_t i = 0; i < B; ++i) {
      const T ri = resid[std::size_t(i)];
      if (ri != T(0)) K.axpy(w, row(rows[i]), T(c * double(ri)));
    }
    slots[0].step += 1;  // as the optimizer's step would count it
    if (o.fit_intercept) {
      gb = rsum * (T(1) / T(B));
      apply_step(opt, lr[k], slots + 1, 1);
    }
  };
  // The fixed-order sums of batch k: residuals and losses block after
  // block, and (dense rows) the tree of the partial gradients ...
  T rsum = T(0);
  auto reduce = [&](std::int64_t, std::int64_t blk) {
    rsum = (blk == 0 ? T(0) : rsum) + resid_sum[std::size_t(blk)];
    total += loss_sum[std::size_t(blk)];
  };
  auto combine = [&](std::int64_t i, std::int64_t j, bool root) {
    if constexpr (!Sparse) partials.combine(i, j, root);
  };
  // ... then (sparse rows) the gradient, the penalty's L2 part, the
  // optimizer's step and the L1 part.
  auto finish = [&](std::int64_t k) {
    const std::int64_t start = k * bs, B = std::min(bs, count - start);
    const std::int64_t* rows = order + start;
    if (lazy) {
      lazy_step(k, B, rows, rsum);
      return;
    }
    if (Sparse) {
      std::fill(gw.begin(), gw.end(), T(0));
      for (std::int64_t i = 0; i < B; ++i) {
        const T ri = resid[std::size_t(i)];
        if (ri != T(0)) K.axpy(gw.data(), row(rows[i]), ri);
      }
    }
    const T inv = T(1) / T(B);
    average_and_penalise(gw.data(), w, d, inv, o.penalty, alpha, l2);
    gb = rsum * inv;
    apply_step(opt, lr[k], slots, o.fit_intercept ? 2 : 1);
    l1_penalty.apply(lr[k], w, slots[0]);
  };
  auto warm = warm_blocks(order, count, bs, ahead, row);
  // The lazy step runs on one thread: its writes land on scattered weights
  // that the other thread's margins of the next batch would read, moving
  // those cache lines between the cores every batch (3-4x slower measured
  // on two threads, 100 000 weights, 30 non-zeros a row).
  // On one thread (batches of at most one block, or the lazy step), a
  // second thread reads the rows ahead where that pays.
  if (detail::read_ahead_pays(count, row_bytes)) {
    auto read_ahead = [&](const detail::RowReadAhead& reader) {
      reader.read(order, count,
                  [&](std::int64_t i) { detail::read_rows(row, i, i + 1, yv, swv); });
    };
    run_batches(count, bs, lazy ? 0 : d, block, reduce, combine, finish, warm, read_ahead);
  } else {
    run_batches(count, bs, lazy ? 0 : d, block, reduce, combine, finish, warm);
  }
  if (scale != 1.0) unscale(scale);
  keep_counters(model, slots);
  return total;
}

// A pass over dense rows whose data and memory layout are checked already
// (the pass checks its options, rows, model and optimizer itself).
template <class T>
double dense_pass(const DenseData<T>& data, const std::int64_t* order, std::int64_t count,
                  const MinibatchOptions& o, const OptimizerOptions& opt, const double* lr,
                  LinearModel<T>& model) {
  return epoch_impl<T, false>(data.X, data.n, data.d, data.y, data.sample_weight, order, count,
                              o, opt, lr, model, data.d * std::int64_t(sizeof(T)),
                              [&](std::int64_t i) { return detail::dense_row(data, i); });
}

template <class T>
double dense_minibatch(const DenseData<T>& data, const std::int64_t* order, std::int64_t count,
                       const MinibatchOptions& o, const OptimizerOptions& opt, const double* lr,
                       LinearModel<T>& model) {
  check_data(data, true);
  check_model_disjoint(model, data, order, count, o, lr);
  return dense_pass(data, order, count, o, opt, lr, model);
}

// Whether the model's weights, intercept and optimizer state are all finite.
template <class T>
bool model_finite(const LinearModel<T>& model) {
  auto finite = [](const T* p, std::int64_t n) {
    bool ok = true;
    for (std::int64_t j = 0; j < n; ++j) ok &= std::isfinite(p[j]);
    return ok;
  };
  bool ok = finite(model.coef.param, model.coef.size) &&
            finite(model.intercept.param, model.intercept.size);
  for (int k = 0; k < 3; ++k) {
    if (model.coef.state[k] != nullptr) ok = ok && finite(model.coef.state[k], model.coef.size);
    if (model.intercept.state[k] != nullptr)
      ok = ok && finite(model.intercept.state[k], model.intercept.size);
  }
  return ok;
}

template <class T>
void dense_minibatch_passes(const DenseData<T>& data, const std::int64_t* order,
                            std::int64_t count, std::int64_t pass_rows, const MinibatchOptions& o,
                            const OptimizerOptions& opt, const double* lr, LinearModel<T>& model,
                            PassSummary* out) {
  if (pass_rows < 1 || count < 0 || count % pass_rows != 0)
    throw std::invalid_argument("count must be a whole number of passes of pass_rows >= 1 rows");
  if (o.batch_size < 1) throw std::invalid_argument("batch_size must be >= 1");
  const std::int64_t passes = count / pass_rows, nb = batch_count(pass_rows, o.batch_size);
  if (passes > 0 && out == nullptr) throw std::invalid_argument("null pass summaries");
  // Before the first pass writes: the data, what differs from pass to pass
  // (its learning rates, its rows and what they may not overlap) and the
  // summaries; each pass checks its options, rows, model and optimizer
  // itself before it writes (dense_pass), the first before anything is.
  check_data(data, true);
  for (std::int64_t p = 0; p < passes; ++p) {
    check_minibatch_options(o, pass_rows, lr + p * nb);
    check_model_disjoint(model, data, order + p * pass_rows, pass_rows, o, lr + p * nb);
  }
  detail::check_order(order, count, data.n);
  std::vector<detail::Span> touched = detail::reads_of(data, order, count, "order");
  touched.push_back(detail::span_of(lr, passes * nb, "lr"));
  const std::vector<detail::Span> model_arrays = model_spans(model);
  touched.insert(touched.end(), model_arrays.begin(), model_arrays.end());
  detail::check_disjoint({detail::span_of(out, passes, "out")}, touched);
  std::vector<double> w64(std::is_same_v<T, double> ? 0 : static_cast<std::size_t>(data.d));
  for (std::int64_t p = 0; p < passes; ++p) {
    PassSummary& s = out[p];
    s.loss = dense_pass(data, order + p * pass_rows, pass_rows, o, opt, lr + p * nb, model);
    const T* w = model.coef.param;
    if constexpr (std::is_same_v<T, double>) {
      s.sq_norm = gd::dot(w, w, data.d);
    } else {
      for (std::int64_t j = 0; j < data.d; ++j) w64[std::size_t(j)] = double(w[j]);
      s.sq_norm = gd::dot(w64.data(), w64.data(), data.d);
    }
    s.finite = model_finite(model);
  }
}

template <class T, class I>
double csr_minibatch(const CsrData<T, I>& data, const std::int64_t* order, std::int64_t count,
                     const MinibatchOptions& o, const OptimizerOptions& opt, const double* lr,
                     LinearModel<T>& model) {
  detail::check_csr(data);
  check_model_disjoint(model, data, order, count, o, lr);
  return epoch_impl<T, true>(static_cast<const T*>(nullptr), data.n, data.d, data.y,
                             data.sample_weight, order, count, o, opt, lr, model,
                             detail::csr_row_bytes(data),
                             [&](std::int64_t i) { return detail::csr_row(data, i); });
}

// Softmax regression over k classes (see multinomial_epoch), on the rows
// row(i) of n rows (dense, or CSR with column indices).  Dense rows: each
// block (batch_blocks) sums its partial gradient (k·d) in row order, the
// partials added by the tree of tree_nodes.  Sparse rows: the blocks keep
// each row's k residuals and finish() adds the gradient over the batch's
// rows in row order, O(k·nnz of the batch) (a dense partial per block would
// cost O(k·d) per block); the optimizer's update stays dense over the k·d
// weights once per batch.  Either way the sums do not depend on the thread
// count.
template <class T, bool Sparse, class GetRow>
double multinomial_impl(std::int64_t n, std::int64_t d, const T* yv, const T* swv,
                        std::int64_t k, const std::int64_t* order, std::int64_t count,
                        const MinibatchOptions& o, const OptimizerOptions& opt, const double* lr,
                        LinearModel<T>& model, std::int64_t row_bytes, GetRow&& row) {
  if (k < 2) throw std::invalid_argument("n_classes must be >= 2");
  check_minibatch_options(o, count, lr);
  detail::check_order(order, count, n);
  for (std::int64_t i = 0; i < n; ++i) {
    const T yi = yv[i];
    if (!(yi >= T(0) && yi < T(k)) || yi != T(std::int64_t(yi)))
      throw std::invalid_argument("class indices must be whole numbers in [0, n_classes)");
  }
  if (model.coef.size != k * d || (k * d > 0 && model.coef.param == nullptr))
    throw std::invalid_argument("coef must hold n_classes × n_features weights");
  if (model.intercept.size != k || model.intercept.param == nullptr)
    throw std::invalid_argument("intercept must hold n_classes values");
  std::visit([](const auto& oo) { gd::validate(oo); }, opt);

  const detail::RowKernels<T> K{detail::active_table()};
  const std::int64_t bs = pass_batch_size(o, count);
  const T alpha = T(o.alpha), l2 = T(o.alpha * (1.0 - o.l1_ratio));
  T* W = model.coef.param;
  T* bias = model.intercept.param;
  const std::int64_t kd = k * d;
  CumulativeL1<T> l1_penalty(o, opt, model, kd);
  const std::int64_t max_blocks = batch_blocks(bs);
  // (sparse rows) each row's k residuals, row-major
  std::vector<T> resid(Sparse ? static_cast<std::size_t>(bs * k) : 0);
  // per block: each class's residual sum and the losses' sum, in row order
  std::vector<T> resid_sum(static_cast<std::size_t>(max_blocks * k));
  std::vector<double> loss_sum(static_cast<std::size_t>(max_blocks));
  std::vector<T> gw(static_cast<std::size_t>(kd)), gb(static_cast<std::size_t>(k));
  BlockPartials<T> partials(Sparse ? 0 : max_blocks, kd, gw.data());
  ParamSlot<T> slots[2] = {model.coef, model.intercept};
  slots[0].grad = gw.data();
  slots[1].grad = gb.data();
  double total = 0.0;
  const std::int64_t ahead = detail::prefetch_distance(row_bytes);
  auto block = [&](std::int64_t bt, std::int64_t blk) {
    const std::int64_t start = bt * bs, B = std::min(bs, count - start);
    const std::int64_t* rows = order + start;
    T* part = Sparse ? nullptr : partials.block(blk);
    if constexpr (!Sparse) std::fill(part, part + kd, T(0));
    std::vector<T> z(static_cast<std::size_t>(k)), e(static_cast<std::size_t>(k));
    T* rsum = resid_sum.data() + blk * k;
    std::fill(rsum, rsum + k, T(0));
    double lsum = 0.0;
    const std::int64_t i0 = block_begin(B, blk), i1 = block_begin(B, blk + 1);
    for (std::int64_t i = i0; i < i1; ++i) {
      const std::int64_t r = rows[i];
      const auto x = row(r);
      const std::int64_t q = prefetch_position(start, bs, i0, i1, i, ahead);
      if (q < count) {
        detail::prefetch_row(row(order[q]));
        detail::prefetch_targets(yv, swv, order[q]);
      }
      T m = T(0), finite = T(0);  // finite: +0 when every margin is finite, NaN otherwise
      for (std::int64_t c = 0; c < k; ++c) {
        z[std::size_t(c)] = K.dot(x, W + c * d) + bias[c];
        m = (c == 0 || z[std::size_t(c)] > m) ? z[std::size_t(c)] : m;
        finite = finite + (z[std::size_t(c)] - z[std::size_t(c)]);
      }
      // softmax as in multinomial_loss (losses.cpp): e_c = exp(z_c − m),
      // loss (m − z_y) + log Σe, probabilities e_c / Σe
      T sum = T(0);
      for (std::int64_t c = 0; c < k; ++c) {
        e[std::size_t(c)] = gd_exp(z[std::size_t(c)] - m);
        sum = sum + e[std::size_t(c)];
      }
      const std::int64_t yc = std::int64_t(yv[r]);
      const T sw = swv ? swv[r] : T(1);
      lsum += double(sw * ((m - z[std::size_t(yc)]) + gd_log(sum))) + double(finite);
      for (std::int64_t c = 0; c < k; ++c) {
        T rc = e[std::size_t(c)] / sum - (c == yc ? T(1) : T(0));
        rc = sw * rc;
        rsum[c] = rsum[c] + rc;
        if constexpr (Sparse) {
          resid[std::size_t(i * k + c)] = rc;
        } else {
          if (rc != T(0)) K.axpy(part + c * d, x, rc);
        }
      }
    }
    loss_sum[std::size_t(blk)] = lsum;
  };
  // the fixed-order sums of batch bt: the residuals and losses block after
  // block, (dense rows) the tree of the partial gradients ...
  auto reduce = [&](std::int64_t, std::int64_t blk) {
    if (blk == 0) std::fill(gb.begin(), gb.end(), T(0));
    total += loss_sum[std::size_t(blk)];
    for (std::int64_t c = 0; c < k; ++c)
      gb[std::size_t(c)] = gb[std::size_t(c)] + resid_sum[std::size_t(blk * k + c)];
  };
  auto combine = [&](std::int64_t i, std::int64_t j, bool root) {
    if constexpr (!Sparse) partials.combine(i, j, root);
  };
  // ... then (sparse rows) the gradient in row order, the penalty's L2
  // part, the optimizer's step and the L1 part
  auto finish = [&](std::int64_t bt) {
    const std::int64_t start = bt * bs, B = std::min(bs, count - start);
    if constexpr (Sparse) {
      const std::int64_t* rows = order + start;
      std::fill(gw.begin(), gw.end(), T(0));
      for (std::int64_t i = 0; i < B; ++i) {
        const auto x = row(rows[i]);
        for (std::int64_t c = 0; c < k; ++c) {
          const T rc = resid[std::size_t(i * k + c)];
          if (rc != T(0)) K.axpy(gw.data() + c * d, x, rc);
        }
      }
    }
    const T inv = T(1) / T(B);
    average_and_penalise(gw.data(), W, kd, inv, o.penalty, alpha, l2);
    for (std::int64_t c = 0; c < k; ++c) gb[std::size_t(c)] = gb[std::size_t(c)] * inv;
    apply_step(opt, lr[bt], slots, o.fit_intercept ? 2 : 1);
    l1_penalty.apply(lr[bt], W, slots[0]);
  };
  // (no reader ahead of small batches on one thread, unlike the binary
  // loop's: with 5 classes, batches of 32, it made blocks 1.05x slower and
  // shuffled rows 1.06x faster — each row's k margins hide its fetch)
  run_batches(count, bs, kd, block, reduce, combine, finish,
              warm_blocks(order, count, bs, ahead, row));
  keep_counters(model, slots);
  return total;
}

template <class T>
double dense_multinomial(const DenseData<T>& data, std::int64_t k, const std::int64_t* order,
                         std::int64_t count, const MinibatchOptions& o,
                         const OptimizerOptions& opt, const double* lr, LinearModel<T>& model) {
  check_data(data, true);
  check_model_disjoint(model, data, order, count, o, lr);
  const std::int64_t d = data.d;
  return multinomial_impl<T, false>(data.n, d, data.y, data.sample_weight, k, order, count, o,
                                    opt, lr, model, d * std::int64_t(sizeof(T)),
                                    [&](std::int64_t i) { return detail::dense_row(data, i); });
}

template <class T, class I>
double csr_multinomial(const CsrData<T, I>& data, std::int64_t k, const std::int64_t* order,
                       std::int64_t count, const MinibatchOptions& o,
                       const OptimizerOptions& opt, const double* lr, LinearModel<T>& model) {
  detail::check_csr(data);
  check_model_disjoint(model, data, order, count, o, lr);
  return multinomial_impl<T, true>(data.n, data.d, data.y, data.sample_weight, k, order, count,
                                   o, opt, lr, model, detail::csr_row_bytes(data),
                                   [&](std::int64_t i) { return detail::csr_row(data, i); });
}

// out[k] = dot(row k, w) + b for the rows rows[0..m) (rows null: rows
// 0..m-1), row(i) giving row i.  Each thread computes one contiguous share
// of the outputs, prefetching (in a given row order) the rows of its own
// share ahead; `work` (elements) decides the threads.
template <class T, class GetRow>
void decision_rows(const std::int64_t* rows, std::int64_t m, std::int64_t row_bytes,
                   std::int64_t work, const T* w, T b, T* out, GetRow&& row) {
  const detail::RowKernels<T> K{detail::active_table()};
  const std::int64_t ahead = detail::prefetch_distance(row_bytes);
  auto at = [&](std::int64_t k) { return row(rows != nullptr ? rows[k] : k); };
  auto share = [&](std::int64_t k0, std::int64_t k1) {
    for (std::int64_t k = k0; k < k1; ++k) {
      if (rows != nullptr && k + ahead < k1) detail::prefetch_row(at(k + ahead));
      out[k] = K.dot(at(k), w) + b;
    }
  };
  detail::for_each_range_share(m, detail::threads_for(work), share);
}

// decision_function's checks after the data's own: the rows (null: every
// row), the weights and the output, which shares no memory with what the
// call reads.  Returns the number of outputs.
template <class T, class Data>
std::int64_t check_decision(const Data& data, const std::int64_t* rows, std::int64_t count,
                            const T* w, T* out) {
  if (rows != nullptr) detail::check_order(rows, count, data.n);
  const std::int64_t m = rows != nullptr ? count : data.n;
  if (m > 0 && (out == nullptr || (data.d > 0 && w == nullptr)))
    throw std::invalid_argument("null weights or output");
  std::vector<detail::Span> read = detail::reads_of(data, rows, rows != nullptr ? m : 0, "rows");
  read.push_back(detail::span_of(w, data.d, "coef"));
  detail::check_disjoint({detail::span_of(out, m, "out")}, read);
  return m;
}

template <class T>
void decision_impl(const DenseData<T>& data, const std::int64_t* rows, std::int64_t count,
                   const T* w, T b, T* out) {
  check_data(data, false);
  const std::int64_t m = check_decision(data, rows, count, w, out);
  decision_rows(rows, m, data.d * std::int64_t(sizeof(T)), m * data.d / 4, w, b, out,
                [&](std::int64_t i) { return detail::dense_row(data, i); });
}

template <class T, class I>
void decision_csr_impl(const CsrData<T, I>& data, const std::int64_t* rows, std::int64_t count,
                       const T* w, T b, T* out) {
  detail::check_csr(data, false);
  const std::int64_t m = check_decision(data, rows, count, w, out);
  const std::int64_t nnz_per_row = data.n > 0 ? std::int64_t(data.indptr[data.n]) / data.n : 0;
  decision_rows(rows, m, detail::csr_row_bytes(data), m * std::max<std::int64_t>(nnz_per_row, 1),
                w, b, out, [&](std::int64_t i) { return detail::csr_row(data, i); });
}

}  // namespace

double minibatch_epoch(const DenseData<float>& data, const std::int64_t* order, std::int64_t count,
                       const MinibatchOptions& o, const OptimizerOptions& opt, const double* lr,
                       LinearModel<float>& model) {
  return dense_minibatch(data, order, count, o, opt, lr, model);
}
double minibatch_epoch(const DenseData<double>& data, const std::int64_t* order,
                       std::int64_t count, const MinibatchOptions& o,
                       const OptimizerOptions& opt, const double* lr,
                       LinearModel<double>& model) {
  return dense_minibatch(data, order, count, o, opt, lr, model);
}
void minibatch_passes(const DenseData<float>& data, const std::int64_t* order, std::int64_t count,
                      std::int64_t pass_rows, const MinibatchOptions& o,
                      const OptimizerOptions& opt, const double* lr, LinearModel<float>& model,
                      PassSummary* out) {
  dense_minibatch_passes(data, order, count, pass_rows, o, opt, lr, model, out);
}
void minibatch_passes(const DenseData<double>& data, const std::int64_t* order,
                      std::int64_t count, std::int64_t pass_rows, const MinibatchOptions& o,
                      const OptimizerOptions& opt, const double* lr, LinearModel<double>& model,
                      PassSummary* out) {
  dense_minibatch_passes(data, order, count, pass_rows, o, opt, lr, model, out);
}
double minibatch_epoch(const CsrData<float>& data, const std::int64_t* order, std::int64_t count,
                       const MinibatchOptions& o, const OptimizerOptions& opt, const double* lr,
                       LinearModel<float>& model) {
  return csr_minibatch(data, order, count, o, opt, lr, model);
}
double minibatch_epoch(const CsrData<double>& data, const std::int64_t* order,
                       std::int64_t count, const MinibatchOptions& o,
                       const OptimizerOptions& opt, const double* lr,
                       LinearModel<double>& model) {
  return csr_minibatch(data, order, count, o, opt, lr, model);
}
double minibatch_epoch(const CsrData<float, std::int32_t>& data, const std::int64_t* order,
                       std::int64_t count, const MinibatchOptions& o,
                       const OptimizerOptions& opt, const double* lr,
                       LinearModel<float>& model) {
  return csr_minibatch(data, order, count, o, opt, lr, model);
}
double minibatch_epoch(const CsrData<double, std::int32_t>& data, const std::int64_t* order,
                       std::int64_t count, const MinibatchOptions& o,
                       const OptimizerOptions& opt, const double* lr,
                       LinearModel<double>& model) {
  return csr_minibatch(data, order, count, o, opt, lr, model);
}
double multinomial_epoch(const DenseData<float>& data, std::int64_t k, const std::int64_t* order,
                         std::int64_t count, const MinibatchOptions& o,
                         const OptimizerOptions& opt, const double* lr,
                         LinearModel<float>& model) {
  return dense_multinomial(data, k, order, count, o, opt, lr, model);
}
double multinomial_epoch(const DenseData<double>& data, std::int64_t k,
                         const std::int64_t* order, std::int64_t count,
                         const MinibatchOptions& o, const OptimizerOptions& opt,
                         const double* lr, LinearModel<double>& model) {
  return dense_multinomial(data, k, order, count, o, opt, lr, model);
}
double multinomial_epoch(const CsrData<float>& data, std::int64_t k,
                         const std::int64_t* order, std::int64_t count,
                         const MinibatchOptions& o, const OptimizerOptions& opt,
                         const double* lr, LinearModel<float>& model) {
  return csr_multinomial(data, k, order, count, o, opt, lr, model);
}
double multinomial_epoch(const CsrData<float, std::int32_t>& data, std::int64_t k,
                         const std::int64_t* order, std::int64_t count,
                         const MinibatchOptions& o, const OptimizerOptions& opt,
                         const double* lr, LinearModel<float>& model) {
  return csr_multinomial(data, k, order, count, o, opt, lr, model);
}
double multinomial_epoch(const CsrData<double>& data, std::int64_t k,
                         const std::int64_t* order, std::int64_t count,
                         const MinibatchOptions& o, const OptimizerOptions& opt,
                         const double* lr, LinearModel<double>& model) {
  return csr_multinomial(data, k, order, count, o, opt, lr, model);
}
double multinomial_epoch(const CsrData<double, std::int32_t>& data, std::int64_t k,
                         const std::int64_t* order, std::int64_t count,
                         const MinibatchOptions& o, const OptimizerOptions& opt,
                         const double* lr, LinearModel<double>& model) {
  return csr_multinomial(data, k, order, count, o, opt, lr, model);
}
void block_order(const std::int64_t* blocks, std::int64_t n_blocks, const std::int64_t* within,
                 std::int64_t within_size, std::int64_t size, std::int64_t n, std::int64_t* out) {
  if (size < 1) throw std::invalid_argument("block size must be >= 1");
  if (n < 0) throw std::invalid_argument("row count must be >= 0");
  const std::int64_t want_blocks = batch_count(n, size);
  if (n_blocks != want_blocks)
    throw std::invalid_argument("blocks must hold ceil(n / size) = " +
                                std::to_string(want_blocks) + " entries");
  if (within_size != std::min(size, n))
    throw std::invalid_argument("within must hold min(size, n) entries");
  if ((n_blocks > 0 && blocks == nullptr) || (within_size > 0 && within == nullptr) ||
      (n > 0 && out == nullptr))
    throw std::invalid_argument("null blocks, within or out");
  detail::check_disjoint({detail::span_of(out, n, "out")},
                         {detail::span_of(blocks, n_blocks, "blocks"),
                          detail::span_of(within, within_size, "within")});
  auto check_permutation = [](const std::int64_t* p, std::int64_t m, const char* what) {
    std::vector<char> seen(static_cast<std::size_t>(m), 0);
    for (std::int64_t k = 0; k < m; ++k) {
      if (p[k] < 0 || p[k] >= m || seen[std::size_t(p[k])])
        throw std::invalid_argument(std::string(what) + " must be a permutation of 0 ... " +
                                    std::to_string(m - 1));
      seen[std::size_t(p[k])] = 1;
    }
  };
  check_permutation(blocks, n_blocks, "blocks");
  check_permutation(within, within_size, "within");
  if (n == 0) return;
  const std::int64_t last = n_blocks - 1, last_len = n - last * size;
  std::int64_t at = 0;  // where the short block goes
  while (blocks[at] != last) ++at;
  auto fill = [&](std::int64_t k0, std::int64_t k1) {
    for (std::int64_t k = k0; k < k1; ++k) {
      const std::int64_t b = blocks[k], base = b * size;
      std::int64_t* o = out + (k <= at ? k * size : k * size - (size - last_len));
      if (b != last) {
        for (std::int64_t j = 0; j < size; ++j) o[j] = base + within[j];
      } else {
        for (std::int64_t j = 0, m = 0; j < within_size; ++j)
          if (within[j] < last_len) o[m++] = base + within[j];
      }
    }
  };
  detail::for_each_range_share(n_blocks, detail::threads_for(n / 4), fill);
}

float dot(const float* x, const float* w, std::int64_t n) {
  return n > 0 ? detail::active_table().dot_f32(x, w, n) : 0.0f;
}
double dot(const double* x, const double* w, std::int64_t n) {
  return n > 0 ? detail::active_table().dot_f64(x, w, n) : 0.0;
}
float axpy_dot(float* w, const float* x, float a, const float* xn, std::int64_t n) {
  return n > 0 ? detail::active_table().axpy_dot_f32(w, x, a, xn, n) : 0.0f;
}
double axpy_dot(double* w, const double* x, double a, const double* xn, std::int64_t n) {
  return n > 0 ? detail::active_table().axpy_dot_f64(w, x, a, xn, n) : 0.0;
}
void decision_function(const DenseData<float>& data, const float* w, float b, float* out) {
  decision_impl(data, nullptr, 0, w, b, out);
}
void decision_function(const DenseData<double>& data, const double* w, double b, double* out) {
  decision_impl(data, nullptr, 0, w, b, out);
}
void decision_function(const DenseData<float>& data, const std::int64_t* rows, std::int64_t count,
                       const float* w, float b, float* out) {
  decision_impl(data, rows, count, w, b, out);
}
void decision_function(const DenseData<double>& data, const std::int64_t* rows,
                       std::int64_t count, const double* w, double b, double* out) {
  decision_impl(data, rows, count, w, b, out);
}
void decision_function(const CsrData<float, std::int32_t>& data, const std::int64_t* rows,
                       std::int64_t count, const float* w, float b, float* out) {
  decision_csr_impl(data, rows, count, w, b, out);
}
void decision_function(const CsrData<double, std::int32_t>& data, const std::int64_t* rows,
                       std::int64_t count, const double* w, double b, double* out) {
  decision_csr_impl(data, rows, count, w, b, out);
}
void decision_function(const CsrData<float, std::int64_t>& data, const std::int64_t* rows,
                       std::int64_t count, const float* w, float b, float* out) {
  decision_csr_impl(data, rows, count, w, b, out);
}
void decision_function(const CsrData<double, std::int64_t>& data, const std::int64_t* rows,
                       std::int64_t count, const double* w, double b, double* out) {
  decision_csr_impl(data, rows, count, w, b, out);
}

}  // namespace gd
