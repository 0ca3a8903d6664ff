// scikit-learn's per-sample SGD (_plain_sgd), one pass per call, dense or
// CSR rows; see gdcore/linear.hpp.  The dense dot products and axpys run on
// this ISA's fixed-order kernels, so results do not depend on the ISA path.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "gdcore/linear.hpp"
#include "internal.hpp"
#include "rows.hpp"

namespace gd {
namespace {
#include "loss_defs.inc"

// scikit-learn clips the loss derivative at ±1e12 (MAX_DLOSS).
constexpr double kMaxDloss = 1e12;

template <class T>
using Kernels = detail::RowKernels<T>;

// (the steps without a reader ahead of them)
struct NoReader {};

template <class T>
void reset_wscale(PlainSGDState<T>& s, std::int64_t d) {
  if (s.aw != nullptr) {
    const T a = T(s.average_a), inv_b = T(1.0 / s.average_b);
    for (std::int64_t j = 0; j < d; ++j) s.aw[j] = (s.aw[j] + a * s.w[j]) * inv_b;
    s.average_a = 0.0;
    s.average_b = 1.0;
  }
  const T c = T(s.wscale);
  for (std::int64_t j = 0; j < d; ++j) s.w[j] = s.w[j] * c;
  s.wscale = 1.0;
}

template <class T>
void check_options(const PlainSGDOptions& o, const PlainSGDState<T>& s, std::int64_t d) {
  detail::check_loss_and_penalty(o.loss, o.penalty);
  if (int(o.learning_rate) < 0 || int(o.learning_rate) > 2)
    throw std::invalid_argument("unknown learning rate");
  if (!(o.alpha >= 0.0) || std::isinf(o.alpha))
    throw std::invalid_argument("alpha must be a finite number >= 0");
  if (!(o.l1_ratio >= 0.0 && o.l1_ratio <= 1.0))
    throw std::invalid_argument("l1_ratio must be in [0, 1]");
  if (o.learning_rate == LearningRate::optimal && !(o.alpha > 0.0))
    throw std::invalid_argument("alpha must be > 0 with learning_rate='optimal'");
  // the first step's rate, 1 / (alpha (optimal_init + t - 1)), must be finite
  if (o.learning_rate == LearningRate::optimal &&
      (!(o.optimal_init > 0.0) || std::isinf(o.optimal_init)))
    throw std::invalid_argument("optimal_init must be a finite number > 0 with "
                                "learning_rate='optimal'");
  if (!(o.eta0 >= 0.0) || std::isinf(o.eta0))
    throw std::invalid_argument("eta0 must be a finite number >= 0");
  if (!std::isfinite(o.power_t)) throw std::invalid_argument("power_t must be finite");
  if (!std::isfinite(o.intercept_decay))
    throw std::invalid_argument("intercept_decay must be finite");
  if (d > 0 && s.w == nullptr) throw std::invalid_argument("null weights");
  if (o.average > 0 && d > 0 && s.aw == nullptr)
    throw std::invalid_argument("averaging needs the averaged-weight buffer");
  const bool l1 = o.penalty == Penalty::l1 || o.penalty == Penalty::elasticnet;
  if (l1 && d > 0 && s.q == nullptr) throw std::invalid_argument("L1 needs the q buffer");
  if (!(s.wscale > 0.0)) throw std::invalid_argument("wscale must be > 0");
  if (!(s.t >= 1.0)) throw std::invalid_argument("t must be >= 1");
  if (o.block < 0) throw std::invalid_argument("block must be >= 0");
}

// The norms of the weights a step wrote, as scikit-learn's WeightVector.add
// keeps them: Σ w_j² (L2) and Σ |w_j| (L1), in double, in index order, over
// the row's features (every feature of a dense row); a sum not asked for
// stays 0.
template <bool L2, bool L1, class T, class Row>
void step_norms(const T* w, const Row& x, std::int64_t d, double& l2, double& l1) {
  double s2 = 0.0, s1 = 0.0;
  auto add = [&s2, &s1](double v) {
    if constexpr (L2) s2 += v * v;
    if constexpr (L1) s1 += std::fabs(v);
  };
  if (x.index == nullptr)
    for (std::int64_t j = 0; j < d; ++j) add(double(w[j]));
  else
    for (std::int64_t j = 0; j < x.nnz; ++j) add(double(w[x.index[j]]));
  l2 = s2;
  l1 = s1;
}

template <class T, class GetRow>
double epoch(std::int64_t n, std::int64_t d, const T* yv, const T* swv, const std::int64_t* order,
             std::int64_t count, const PlainSGDOptions& o, PlainSGDState<T>& s,
             std::int64_t row_bytes, GetRow&& row) {
  check_options(o, s, d);
  detail::check_order(order, count, n);
  // The steps (on one thread), returning the sum of the losses; `reader`:
  // the reader ahead of them (BlockReadAhead or RowReadAhead), or a null
  // NoReader.  (One instantiation per kind, each called once, so that each
  // inlines: the steps through one out-of-line call were 5-10% slower with
  // shuffle=True.)
  auto steps = [&](auto* reader) {
    using Reader = std::remove_pointer_t<decltype(reader)>;
    constexpr bool kBlocks = std::is_same_v<Reader, detail::BlockReadAhead>;
    constexpr bool kRows = std::is_same_v<Reader, detail::RowReadAhead>;
    const Kernels<T> K{detail::active_table()};
    const int kind = int(o.loss.kind);
    const T param = T(o.loss.param);
    const double alpha = o.alpha;
    double l1_ratio = o.l1_ratio;
    if (o.penalty == Penalty::l2) l1_ratio = 0.0;
    if (o.penalty == Penalty::l1) l1_ratio = 1.0;
    const bool use_l1 = o.penalty == Penalty::l1 || o.penalty == Penalty::elasticnet;
    const bool in_order = o.targets_in_order;
    // the running objective's penalty reads ‖w‖² where (1 − l1_ratio) > 0
    // and ‖w‖₁ where l1_ratio > 0: only those norms are kept
    const bool need_l2 = o.objective && o.penalty != Penalty::none && l1_ratio < 1.0;
    const bool need_l1 = o.objective && o.penalty != Penalty::none && l1_ratio > 0.0;
    // scikit-learn's objective_sum adds this penalty at the norms before a step
    auto penalty_term = [&]() {
      const double norm = std::sqrt(s.sq_norm);
      return alpha * ((1.0 - l1_ratio) * 0.5 * (norm * norm) + l1_ratio * s.l1_norm);
    };
    // a step's decay c, then (after an update) its norms, scaled by wscale
    auto decay_norms = [&](double c) {
      s.sq_norm *= c * c;
      s.l1_norm *= c;
    };
    auto keep_norms = [&](double l2, double l1, T ws) {
      s.sq_norm = l2 * double(ws * ws);
      s.l1_norm = l1 * double(ws);
    };
    double sumloss = 0.0;
    const std::int64_t ahead = detail::prefetch_distance(row_bytes);
    const bool fetch_weights = detail::prefetch_weights_pays(d * std::int64_t(sizeof(T)));
    detail::BlockPrefetch blocks(order, count, n, std::max<std::int64_t>(o.block, 1));
    // Without L1 nothing touches w between a step and the next margin, so the
    // step's axpy computes that margin in the same pass (same bits).
    const bool fuse = !use_l1;
    T next_dot = T(0);
    bool have_next = false;
    // log_loss: each sample's value (a log1p) waits, kept as its parts, with
    // the running objective's penalty term before its step; kDefer of them
    // are computed on vectors and added to sumloss (and the objective) in
    // step order (the same bits): the log1p is off the steps' critical path.
    //
    // Dense rows with the running objective: the norms after a step sum over
    // every feature, one chain of d additions each, longer than the step
    // itself from a few hundred features on.  There (kNormsMinD to
    // kNormsMaxD features) every sample waits: its loss parts (or value), its
    // decay, and the weights its step wrote, copied; the copies of kNormRows
    // steps are summed side by side (norm_sums), and the flush walks the
    // samples in order — penalty term at the norms before the step, decay,
    // the step's norms — as the step would have (the same bits).  (Measured,
    // paired runs of log_loss with an L2 penalty: 1 000 features 1.28-1.55x
    // faster; 100 features no faster — the chains overlap the next steps.)
    constexpr int kDefer = 64, kNormRows = 8;
    constexpr std::int64_t kNormsMinD = 256, kNormsMaxD = 2048;
    const bool defer_norms = (need_l2 || need_l1) && d >= kNormsMinD && d <= kNormsMaxD &&
                             count > 0 && row(order[0]).index == nullptr;
    const bool defer = kind == int(LossKind::log_loss) || defer_norms;
    const bool log_values = kind == int(LossKind::log_loss);
    T dz[kDefer], de[kDefer], dfin[kDefer], dv[kDefer], dws[kDefer];
    double dpen[kDefer], dc[kDefer];
    int dslot[kDefer];
    std::vector<T> saved(defer_norms ? std::size_t(kNormRows * d) : 0);
    double sl2[kNormRows], sl1[kNormRows];
    int pending = 0, nsaved = 0;
    auto flush = [&]() {
      if (log_values) K.log_loss_values(dz, de, dv, pending);
      if (nsaved > 0) K.norm_sums(saved.data(), d, d, nsaved, sl2, sl1);
      for (int a = 0; a < pending; ++a) {
        sumloss += double(dv[a]) + double(dfin[a]);
        if (!o.objective) continue;
        s.objective += double(dv[a]);
        if (!defer_norms) {
          if (o.penalty != Penalty::none) s.objective += dpen[a];
          continue;
        }
        // (defer_norms: penalised) the penalty at the norms before this
        // step, then the step's decay and, after an update, its norms
        s.objective += penalty_term();
        decay_norms(dc[a]);
        if (dslot[a] >= 0)
          keep_norms(need_l2 ? sl2[dslot[a]] : 0.0, need_l1 ? sl1[dslot[a]] : 0.0, dws[a]);
      }
      pending = 0;
      nsaved = 0;
    };
    for (std::int64_t k = 0; k < count; ++k) {
      if constexpr (kRows)
        if (k % detail::RowReadAhead::kEvery == 0) reader->enter(k);
      const std::int64_t i = order[k];
      const auto x = row(i);
      std::int64_t next = -1;
      if (o.block > 0) {
        [[maybe_unused]] const std::int64_t was = blocks.block();
        next = blocks.next(k);
        if constexpr (kBlocks)
          if (blocks.block() != was) reader->enter(blocks.block());
      }
      if (next >= 0) {
        detail::prefetch_row(row(next));
        if (!in_order) detail::prefetch_targets(yv, swv, next);
      }
      if ((o.block <= 0 || blocks.first_block(k)) && k + ahead < count) {
        detail::prefetch_row(row(order[k + ahead]));
        if (!in_order) detail::prefetch_targets(yv, swv, order[k + ahead]);
      }
      if (fetch_weights && k + ahead / 2 < count)
        detail::prefetch_weights(row(order[k + ahead / 2]), s.w);
      const T dot = have_next ? next_dot : K.dot(x, s.w);
      have_next = false;
      const T p = T(double(dot) * s.wscale + s.intercept);
      double eta = o.eta0;
      if (o.learning_rate == LearningRate::optimal)
        eta = 1.0 / (alpha * (o.optimal_init + s.t - 1.0));
      else if (o.learning_rate == LearningRate::invscaling)
        eta = o.eta0 / std::pow(s.t, o.power_t);
      const std::int64_t at = in_order ? k : i;  // this step's target and weight
      const T yi = yv[at];
      T lv = T(0), dl;
      double pen = 0.0;
      if (o.objective && o.penalty != Penalty::none && !defer_norms) pen = penalty_term();
      if (defer) {
        // (this sample's entry; pushed at the end of its step)
        if (log_values)
          dl = log_loss_derivative_parts(yi, p, dz[pending], de[pending]);
        else
          loss_value_derivative_elem<T>(kind, param, yi, p, dv[pending], dl);
        dfin[pending] = p - p;
        dpen[pending] = pen;
        dslot[pending] = -1;
        dc[pending] = 1.0;
      } else {
        loss_value_derivative_elem<T>(kind, param, yi, p, lv, dl);
        sumloss += double(lv) + double(p - p);  // NaN once a margin is not finite
        if (o.objective) {
          s.objective += double(lv);
          if (o.penalty != Penalty::none) s.objective += pen;
        }
      }
      double dloss = double(dl);
      dloss = std::min(kMaxDloss, std::max(-kMaxDloss, dloss));
      double update = -eta * dloss;
      update *= swv != nullptr ? double(swv[at]) : 1.0;
      if (o.penalty != Penalty::none) {
        const double c = std::max(0.0, 1.0 - ((1.0 - l1_ratio) * eta * alpha));
        s.wscale *= c;
        if (defer_norms)
          dc[pending] = c;
        else
          decay_norms(c);
        if (s.wscale < 1e-9) reset_wscale(s, d);
      }
      if (update != 0.0) {
        const T a = T(update / s.wscale);
        if (fuse && k + 1 < count) {
          next_dot = K.axpy_dot(s.w, x, a, row(order[k + 1]));
          have_next = true;
        } else {
          K.axpy(s.w, x, a);
        }
        if (defer_norms) {
          // the weights the step wrote, for the flush's norms
          std::copy(s.w, s.w + d, saved.data() + nsaved * d);
          dslot[pending] = nsaved++;
          dws[pending] = T(s.wscale);
        } else if (need_l2 || need_l1) {
          // the norms over this sample's features after the step (each only
          // where the objective reads it; the other stays 0)
          double l2, l1;
          if (need_l2 && need_l1)
            step_norms<true, true>(s.w, x, d, l2, l1);
          else if (need_l2)
            step_norms<true, false>(s.w, x, d, l2, l1);
          else
            step_norms<false, true>(s.w, x, d, l2, l1);
          keep_norms(l2, l1, T(s.wscale));
        }
      }
      if (o.fit_intercept && update != 0.0) s.intercept += update * o.intercept_decay;
      if (o.average > 0 && double(o.average) <= s.t) {
        const double num_iter = s.t - double(o.average) + 1.0;
        const double mu = 1.0 / num_iter;
        K.axpy(s.aw, x, T(s.average_a * (-update / s.wscale)));
        if (num_iter > 1.0) s.average_b /= (1.0 - mu);
        s.average_a += mu * s.average_b * s.wscale;
        s.average_intercept += (s.intercept - s.average_intercept) / num_iter;
      }
      if (use_l1) {
        s.u += l1_ratio * eta * alpha;
        const double ws = s.wscale;
        auto penalise = [&](std::int64_t j) {
          const double z = double(s.w[j]);
          double wj = z;
          if (ws * z > 0.0)
            wj = std::max(0.0, z - ((s.u + double(s.q[j])) / ws));
          else if (ws * z < 0.0)
            wj = std::min(0.0, z + ((s.u - double(s.q[j])) / ws));
          s.w[j] = T(wj);
          s.q[j] = T(double(s.q[j]) + ws * (double(s.w[j]) - z));
        };
        if (x.index == nullptr)
          for (std::int64_t j = 0; j < d; ++j) penalise(j);
        else
          for (std::int64_t j = 0; j < x.nnz; ++j) penalise(x.index[j]);
      }
      s.t += 1.0;
      if (defer && (++pending == kDefer || nsaved == kNormRows)) flush();
    }
    flush();
    return sumloss;
  };
  // Rows from memory: a second thread, where one is free, reads the rows
  // ahead of the steps, by blocks (BlockReadAhead) or row by row
  // (RowReadAhead).
  const bool by_blocks = o.block > 0;
  const detail::ThreadGrant grant(detail::read_ahead_pays(count, row_bytes) ? 2 : 1);
#ifdef GDCORE_OPENMP
  if (grant.count() > 1) {
    // (targets and weights in the order's order are read in sequence)
    const T* ry = o.targets_in_order ? nullptr : yv;
    const T* rsw = o.targets_in_order ? nullptr : swv;
    double sumloss = 0.0;
    if (by_blocks) {
      detail::BlockReadAhead reader;
      detail::with_reader(
          reader, [&] { sumloss = steps(&reader); },
          [&](const detail::BlockReadAhead& r) {
            r.read(order, count, o.block, [&](std::int64_t lo, std::int64_t hi) {
              detail::read_rows(row, lo, std::min(hi, n), ry, rsw);
            });
          });
    } else {
      detail::RowReadAhead reader;
      detail::with_reader(
          reader, [&] { sumloss = steps(&reader); },
          [&](const detail::RowReadAhead& r) {
            r.read(order, count,
                   [&](std::int64_t i) { detail::read_rows(row, i, i + 1, ry, rsw); });
          });
    }
    return sumloss;
  }
#endif
  return steps(static_cast<NoReader*>(nullptr));
}

// w, aw and q share no memory with each other, the data or the order (the
// targets: count entries when they are in the order's order).
template <class T, class Data>
void check_state_disjoint(const Data& data, const std::int64_t* order, std::int64_t count,
                          const PlainSGDOptions& o, const PlainSGDState<T>& s) {
  std::vector<detail::Span> reads = detail::reads_of(data, order, count, "order");
  if (o.targets_in_order) {
    for (detail::Span& r : reads)
      if (r.data != nullptr && (r.data == data.y || r.data == data.sample_weight))
        r.bytes = count * std::int64_t(sizeof(T));
  }
  detail::check_disjoint({detail::span_of(s.w, data.d, "w"), detail::span_of(s.aw, data.d, "aw"),
                          detail::span_of(s.q, data.d, "q")},
                         reads);
}

template <class T>
double dense_epoch(const DenseData<T>& data, const std::int64_t* order, std::int64_t count,
                   const PlainSGDOptions& o, PlainSGDState<T>& s) {
  if (data.n < 0 || data.d < 0) throw std::invalid_argument("negative data shape");
  if (data.n > 0 && (data.y == nullptr || (data.d > 0 && data.X == nullptr)))
    throw std::invalid_argument("null data");
  if (o.targets_in_order && count > 0 && data.y == nullptr)
    throw std::invalid_argument("null data");
  check_state_disjoint(data, order, count, o, s);
  return epoch<T>(data.n, data.d, data.y, data.sample_weight, order, count, o, s,
                  data.d * std::int64_t(sizeof(T)),
                  [&](std::int64_t i) { return detail::dense_row(data, i); });
}

template <class T, class I>
double csr_epoch(const CsrData<T, I>& data, const std::int64_t* order, std::int64_t count,
                 const PlainSGDOptions& o, PlainSGDState<T>& s) {
  detail::check_csr(data);
  if (o.targets_in_order && count > 0 && data.y == nullptr)
    throw std::invalid_argument("null data");
  check_state_disjoint(data, order, count, o, s);
  return epoch<T>(data.n, data.d, data.y, data.sample_weight, order, count, o, s,
                  detail::csr_row_bytes(data),
                  [&](std::int64_t i) { return detail::csr_row(data, i); });
}

}  // namespace

double plain_sgd_epoch(const DenseData<float>& d, const std::int64_t* o, std::int64_t c,
                       const PlainSGDOptions& op, PlainSGDState<float>& s) {
  return dense_epoch(d, o, c, op, s);
}
double plain_sgd_epoch(const DenseData<double>& d, const std::int64_t* o, std::int64_t c,
                       const PlainSGDOptions& op, PlainSGDState<double>& s) {
  return dense_epoch(d, o, c, op, s);
}
double plain_sgd_epoch(const CsrData<float>& d, const std::int64_t* o, std::int64_t c,
                       const PlainSGDOptions& op, PlainSGDState<float>& s) {
  return csr_epoch(d, o, c, op, s);
}
double plain_sgd_epoch(const CsrData<double>& d, const std::int64_t* o, std::int64_t c,
                       const PlainSGDOptions& op, PlainSGDState<double>& s) {
  return csr_epoch(d, o, c, op, s);
}
double plain_sgd_epoch(const CsrData<float, std::int32_t>& d, const std::int64_t* o,
                       std::int64_t c, const PlainSGDOptions& op, PlainSGDState<float>& s) {
  return csr_epoch(d, o, c, op, s);
}
double plain_sgd_epoch(const CsrData<double, std::int32_t>& d, const std::int64_t* o,
                       std::int64_t c, const PlainSGDOptions& op, PlainSGDState<double>& s) {
  return csr_epoch(d, o, c, op, s);
}
void plain_sgd_finalize(PlainSGDState<float>& s, std::int64_t d) { reset_wscale(s, d); }
void plain_sgd_finalize(PlainSGDState<double>& s, std::int64_t d) { reset_wscale(s, d); }

}  // namespace gd
