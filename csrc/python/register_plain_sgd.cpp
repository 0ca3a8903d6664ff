// Bindings of gd::plain_sgd_epoch / plain_sgd_finalize (scikit-learn's
// per-sample SGD) for dense and CSR data.  Validation only.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "buffers.hpp"
#include "gdcore/linear.hpp"
#include "linear_data.hpp"

namespace gd::python {
namespace py = pybind11;

namespace {

using I64 = py::array_t<std::int64_t, py::array::c_style>;

// intercept, average_intercept, wscale, average_a, average_b, u, t, sq_norm, l1_norm, objective
constexpr int kStateLen = 10;


PlainSGDOptions options(int loss_kind, double loss_param, int penalty, double alpha,
                        double l1_ratio, int learning_rate, double eta0, double power_t,
                        double optimal_init, bool fit_intercept, double intercept_decay,
                        std::int64_t average, bool objective, std::int64_t block,
                        bool targets_in_order) {
  // (the loss, penalty and learning-rate kinds and the block are checked by
  // the epoch itself)
  PlainSGDOptions o;
  o.loss = Loss{LossKind(loss_kind), loss_param};
  o.penalty = Penalty(penalty);
  o.alpha = alpha;
  o.l1_ratio = l1_ratio;
  o.learning_rate = LearningRate(learning_rate);
  o.eta0 = eta0;
  o.power_t = power_t;
  o.optimal_init = optimal_init;
  o.fit_intercept = fit_intercept;
  o.intercept_decay = intercept_decay;
  o.average = average;
  o.objective = objective;
  o.block = block;
  o.targets_in_order = targets_in_order;
  return o;
}

template <class T>
PlainSGDState<T> state_of(const py::handle& w, const py::handle& aw, const py::handle& q,
                          const py::handle& st, std::int64_t d, DType dt) {
  const double* v = view_inout<double>(st, "state", kStateLen);
  PlainSGDState<T> s;
  s.w = static_cast<T*>(view_vector(w, "w", d, dt, true).data);
  if (!aw.is_none()) s.aw = static_cast<T*>(view_vector(aw, "aw", d, dt, true).data);
  if (!q.is_none()) s.q = static_cast<T*>(view_vector(q, "q", d, dt, true).data);
  s.intercept = v[0];
  s.average_intercept = v[1];
  s.wscale = v[2];
  s.average_a = v[3];
  s.average_b = v[4];
  s.u = v[5];
  s.t = v[6];
  s.sq_norm = v[7];
  s.l1_norm = v[8];
  s.objective = v[9];
  return s;
}

template <class T>
void store(const PlainSGDState<T>& s, const py::handle& st) {
  double* v = view_inout<double>(st, "state", kStateLen);
  v[0] = s.intercept;
  v[1] = s.average_intercept;
  v[2] = s.wscale;
  v[3] = s.average_a;
  v[4] = s.average_b;
  v[5] = s.u;
  v[6] = s.t;
  v[7] = s.sq_norm;
  v[8] = s.l1_norm;
  v[9] = s.objective;
}

template <class T, class Data>
double run(const Data& data, const I64& order, const PlainSGDOptions& o, const py::handle& w,
           const py::handle& aw, const py::handle& q, const py::handle& st, DType dt) {
  if (order.ndim() != 1) throw py::value_error("order must be 1-D");
  PlainSGDState<T> s = state_of<T>(w, aw, q, st, data.d, dt);
  double total;
  {
    py::gil_scoped_release release;
    total = gd::plain_sgd_epoch(data, order.data(), order.shape(0), o, s);
  }
  store(s, st);
  return total;
}

}  // namespace

void register_plain_sgd(py::module_& m) {
  m.def(
      "plain_sgd_epoch_dense",
      [](const py::object& X, const py::object& y, const py::object& sw, const I64& order,
         int loss_kind, double loss_param, int penalty, double alpha, double l1_ratio,
         int learning_rate, double eta0, double power_t, double optimal_init, bool fit_intercept,
         double intercept_decay, std::int64_t average, const py::object& w, const py::object& aw,
         const py::object& q, const py::object& state, bool objective, std::int64_t block,
         bool targets_in_order) {
        const ArrayView xv = matrix(X);
        const PlainSGDOptions o =
            options(loss_kind, loss_param, penalty, alpha, l1_ratio, learning_rate, eta0, power_t,
                    optimal_init, fit_intercept, intercept_decay, average, objective, block,
                    targets_in_order);
        const std::int64_t entries = targets_in_order ? std::int64_t(order.size()) : -1;
        if (xv.dtype == DType::f32)
          return run<float>(dense_data<float>(xv, y, sw, entries), order, o, w, aw, q, state,
                            xv.dtype);
        return run<double>(dense_data<double>(xv, y, sw, entries), order, o, w, aw, q, state,
                           xv.dtype);
      },
      py::arg("X"), py::arg("y"), py::arg("sample_weight"), py::arg("order"),
      py::arg("loss_kind"), py::arg("loss_param"), py::arg("penalty"), py::arg("alpha"),
      py::arg("l1_ratio"), py::arg("learning_rate"), py::arg("eta0"), py::arg("power_t"),
      py::arg("optimal_init"), py::arg("fit_intercept"), py::arg("intercept_decay"),
      py::arg("average"), py::arg("w"), py::arg("aw"), py::arg("q"), py::arg("state"),
      py::arg("objective") = false, py::arg("block") = 0, py::arg("targets_in_order") = false,
      "One pass of scikit-learn's per-sample SGD over dense rows; returns the summed loss. "
      "targets_in_order: y and sample_weight hold order's rows' entries, in its order.");
  m.def(
      "plain_sgd_epoch_csr",
      [](const py::object& data, const py::object& indices, const py::object& indptr,
         std::int64_t n_features, const py::object& y, const py::object& sw, const I64& order,
         int loss_kind, double loss_param, int penalty, double alpha, double l1_ratio,
         int learning_rate, double eta0, double power_t, double optimal_init, bool fit_intercept,
         double intercept_decay, std::int64_t average, const py::object& w, const py::object& aw,
         const py::object& q, const py::object& state, bool objective, std::int64_t block, bool check,
         bool targets_in_order) {
        const CsrView cv = view_csr(data, indices, indptr, n_features);
        const DType dt = cv.values.dtype;
        const PlainSGDOptions o =
            options(loss_kind, loss_param, penalty, alpha, l1_ratio, learning_rate, eta0, power_t,
                    optimal_init, fit_intercept, intercept_decay, average, objective, block,
                    targets_in_order);
        const std::int64_t entries = targets_in_order ? std::int64_t(order.size()) : -1;
        auto build = [&](auto tag, auto index_tag) {
          using T = decltype(tag);
          using I = decltype(index_tag);
          return run<T>(csr_data<T, I>(cv, n_features, y, sw, check, entries), order, o, w, aw, q,
                        state, dt);
        };
        return dispatch_csr(cv, build);
      },
      py::arg("data"), py::arg("indices"), py::arg("indptr"), py::arg("n_features"),
      py::arg("y"), py::arg("sample_weight"), py::arg("order"), py::arg("loss_kind"),
      py::arg("loss_param"), py::arg("penalty"), py::arg("alpha"), py::arg("l1_ratio"),
      py::arg("learning_rate"), py::arg("eta0"), py::arg("power_t"), py::arg("optimal_init"),
      py::arg("fit_intercept"), py::arg("intercept_decay"), py::arg("average"), py::arg("w"),
      py::arg("aw"), py::arg("q"), py::arg("state"), py::arg("objective") = false, py::arg("block") = 0,
      py::arg("check") = true, py::arg("targets_in_order") = false,
      "One pass of scikit-learn's per-sample SGD over CSR rows (O(nnz) per sample). "
      "check=False skips the O(nnz) structure check: only for arrays an earlier call checked "
      "and nothing changed since.  targets_in_order: y and sample_weight hold order's rows' "
      "entries, in its order.");
  m.def(
      "plain_sgd_finalize",
      [](const py::object& w, const py::object& aw, const py::object& state) {
        ArrayView wv = view_inplace_array(w.ptr(), Name{"w"});
        if (wv.ndim != 1) throw py::value_error("w must be 1-D");
        const std::int64_t d = wv.size;
        if (wv.dtype == DType::f32) {
          auto s = state_of<float>(w, aw, py::none(), state, d, wv.dtype);
          gd::plain_sgd_finalize(s, d);
          store(s, state);
        } else {
          auto s = state_of<double>(w, aw, py::none(), state, d, wv.dtype);
          gd::plain_sgd_finalize(s, d);
          store(s, state);
        }
      },
      py::arg("w"), py::arg("aw"), py::arg("state"),
      "Fold the weight scale into w (and the averaging representation into aw).");
}

}  // namespace gd::python
