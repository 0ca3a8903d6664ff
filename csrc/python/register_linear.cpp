// Bindings of gdcore/linear.hpp: the fused mini-batch epoch and the decision
// function of linear models.  Validation only; no numerics here.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "buffers.hpp"
#include "gdcore/linear.hpp"
#include "linear_data.hpp"
#include "optim_options.hpp"

namespace gd::python {
namespace py = pybind11;

namespace {

// decision_function's `rows`: a 1-D array of integer dtype holding row
// numbers in [0, n) (floats and booleans are not row numbers).
py::array_t<std::int64_t, py::array::c_style | py::array::forcecast> checked_rows(
    const py::object& rows, std::int64_t n) {
  const py::array any = py::array::ensure(rows);
  if (!any || any.ndim() != 1 ||
      (any.size() > 0 && any.dtype().kind() != 'i' && any.dtype().kind() != 'u'))
    throw py::value_error("rows must be a 1-D integer array");
  auto r = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(any);
  if (!r) throw py::value_error("rows must be a 1-D integer array");
  const std::int64_t* rp = r.data();
  for (std::int64_t k = 0; k < r.shape(0); ++k)
    if (rp[k] < 0 || rp[k] >= n)
      throw py::value_error("rows[" + std::to_string(k) + "] = " + std::to_string(rp[k]) +
                            " is outside [0, " + std::to_string(n) + ")");
  return r;
}

template <class T>
void fill_states(ParamSlot<T>& slot, const py::list& states, std::int64_t n, DType dt,
                 const char* what) {
  if (states.size() > 3) throw py::value_error("at most 3 state buffers");
  for (std::size_t k = 0; k < states.size(); ++k) {
    if (states[k].is_none()) continue;
    ArrayView v = view_vector(states[k], what, n, dt, true);
    slot.state[k] = static_cast<T*>(v.data);
  }
}

using I64Array = py::array_t<std::int64_t, py::array::c_style>;  // (inputs only: may be a copy)

// 1-D, C-contiguous and aligned.
inline bool flat(const py::array& a) {
  const int f = py::detail::array_proxy(a.ptr())->flags;
  return a.ndim() == 1 && (f & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_) != 0 &&
         (f & py::detail::npy_api::NPY_ARRAY_ALIGNED_) != 0;
}

// The counters of a pass, read from and written back to the caller's
// arrays: counters (4 int64) = [coef step, intercept step, coef
// initialized, intercept initialized]; scalars (2 float64) = [coef
// mu_product, intercept mu_product].
struct Counters {
  std::int64_t* c;
  double* s;
  Counters(const py::handle& counters, const py::handle& scalars)
      : c(view_inout<std::int64_t>(counters, "counters", 4)),
        s(view_inout<double>(scalars, "scalars", 2)) {}
  template <class T>
  void load(LinearModel<T>& model) const {
    model.coef.step = c[0];
    model.intercept.step = c[1];
    model.coef.initialized = std::uint8_t(c[2] != 0);
    model.intercept.initialized = std::uint8_t(c[3] != 0);
    model.coef.scalar = s[0];
    model.intercept.scalar = s[1];
  }
  template <class T>
  void save(const LinearModel<T>& model) const {
    c[0] = model.coef.step;
    c[1] = model.intercept.step;
    c[2] = model.coef.initialized;
    c[3] = model.intercept.initialized;
    s[0] = model.coef.scalar;
    s[1] = model.intercept.scalar;
  }
};

// Checks the order, the learning rates, the model arrays (coef_size weights,
// intercept_size intercepts) and the counters, then runs `epoch(model,
// count)` without the GIL and writes the counters back.  pass_rows > 0: the
// order holds passes of pass_rows rows, each with its own batches.
template <class T, class Epoch>
double run_model(std::int64_t coef_size, std::int64_t intercept_size, DType dt,
                 const py::array_t<std::int64_t, py::array::c_style>& order,
                 const MinibatchOptions& mo, const py::array_t<double, py::array::c_style>& lr,
                 const py::handle& coef, const py::handle& intercept, const py::list& coef_states,
                 const py::list& intercept_states,
                 const py::object& counters, const py::object& scalars, const py::object& l1_q,
                 const py::object& l1_u, Epoch&& epoch, std::int64_t pass_rows = 0) {
  if (order.ndim() != 1) throw py::value_error("order must be 1-D");
  const std::int64_t count = order.shape(0);
  auto batches = [&](std::int64_t rows) {
    return rows > 0 ? (rows - 1) / std::max<std::int64_t>(1, mo.batch_size) + 1 : 0;
  };
  if (pass_rows > 0 && count % pass_rows != 0)
    throw py::value_error("order must hold whole passes of pass_rows rows");
  const std::int64_t nbatches =
      pass_rows > 0 ? count / pass_rows * batches(pass_rows) : batches(count);
  if (lr.ndim() != 1 || lr.shape(0) != nbatches)
    throw py::value_error("lr must hold one learning rate per batch (" + std::to_string(nbatches) + ")");
  const Counters cs(counters, scalars);
  LinearModel<T> model;
  model.coef.param = static_cast<T*>(view_vector(coef, "coef", coef_size, dt, true).data);
  model.coef.size = coef_size;
  model.intercept.param =
      static_cast<T*>(view_vector(intercept, "intercept", intercept_size, dt, true).data);
  model.intercept.size = intercept_size;
  fill_states(model.coef, coef_states, coef_size, dt, "coef state");
  fill_states(model.intercept, intercept_states, intercept_size, dt, "intercept state");
  // the cumulative L1 penalty's state (l1 / elasticnet): both or neither
  if (l1_q.is_none() != l1_u.is_none())
    throw py::value_error("l1_q and l1_u must be given together");
  if (!l1_q.is_none()) {
    model.l1_q = static_cast<T*>(view_vector(l1_q, "l1_q", coef_size, dt, true).data);
    model.l1_u = static_cast<double*>(view_vector(l1_u, "l1_u", coef_size, DType::f64, true).data);
  }
  cs.load(model);
  double total;
  {
    py::gil_scoped_release release;
    total = epoch(model, count);
  }
  cs.save(model);
  return total;
}

MinibatchOptions minibatch_options(int loss_kind, double loss_param, int penalty, double alpha,
                                   double l1_ratio, bool fit_intercept, std::int64_t batch_size) {
  // (the loss and penalty kinds are checked by the epoch itself; batch_size
  // here, before the learning rates are counted by batch)
  if (batch_size < 1) throw py::value_error("batch_size must be >= 1");
  MinibatchOptions mo;
  mo.loss = Loss{LossKind(loss_kind), loss_param};
  mo.penalty = Penalty(penalty);
  mo.alpha = alpha;
  mo.l1_ratio = l1_ratio;
  mo.fit_intercept = fit_intercept;
  mo.batch_size = batch_size;
  return mo;
}

OptimizerOptions optimizer_options(const std::string& optimizer, const py::tuple& hyper) {
  const KindInfo& info = find_kind(optimizer);
  return to_variant(info.kind, read_hyper(info, hyper));
}

}  // namespace

void register_linear(py::module_& m) {
  m.def(
      "sparse_step_is_lazy",
      [](const std::string& optimizer, const py::tuple& hyper, int penalty) {
        if (penalty < 0 || penalty > 3) throw py::value_error("unknown penalty");
        return gd::sparse_step_is_lazy(optimizer_options(optimizer, hyper), Penalty(penalty));
      },
      py::arg("optimizer"), py::arg("hyper"), py::arg("penalty"),
      "Whether minibatch_epoch_csr updates only the weights a batch touches (plain SGD "
      "without momentum, with no penalty or L2).");
  m.def(
      "minibatch_epoch",
      [](const py::object& X, const py::object& y, const py::object& sample_weight,
         const py::array_t<std::int64_t, py::array::c_style>& order, int loss_kind,
         double loss_param, int penalty, double alpha, double l1_ratio, bool fit_intercept,
         std::int64_t batch_size, const std::string& optimizer, const py::tuple& hyper,
         const py::array_t<double, py::array::c_style>& lr, const py::object& coef,
         const py::object& intercept, const py::list& coef_states,
         const py::list& intercept_states, const py::object& counters, const py::object& scalars, const py::object& l1_q,
         const py::object& l1_u) {
        const ArrayView xv = matrix(X);
        const MinibatchOptions mo = minibatch_options(loss_kind, loss_param, penalty, alpha,
                                                      l1_ratio, fit_intercept, batch_size);
        const OptimizerOptions opt = optimizer_options(optimizer, hyper);
        const DType dt = xv.dtype;
        auto build = [&](auto tag) {
          using T = decltype(tag);
          const DenseData<T> data = dense_data<T>(xv, y, sample_weight);
          return run_model<T>(data.d, 1, dt, order, mo, lr, coef, intercept, coef_states,
                              intercept_states, counters, scalars, l1_q, l1_u,
                              [&](LinearModel<T>& model, std::int64_t count) {
                                return gd::minibatch_epoch(data, order.data(), count, mo, opt,
                                                           lr.data(), model);
                              });
        };
        return dt == DType::f32 ? build(float{}) : build(double{});
      },
      py::arg("X"), py::arg("y"), py::arg("sample_weight"), py::arg("order"), py::arg("loss_kind"),
      py::arg("loss_param"), py::arg("penalty"), py::arg("alpha"), py::arg("l1_ratio"),
      py::arg("fit_intercept"), py::arg("batch_size"), py::arg("optimizer"), py::arg("hyper"),
      py::arg("lr"), py::arg("coef"), py::arg("intercept"), py::arg("coef_states"),
      py::arg("intercept_states"), py::arg("counters"), py::arg("scalars"),
      py::arg("l1_q") = py::none(), py::arg("l1_u") = py::none(),
      "One fused pass of mini-batch training; returns the summed weighted loss.  "
      "penalty l1 / elasticnet: l1_q (one value per weight, coef's dtype) and l1_u (one "
      "float64 per weight: the threshold, grown by lr*alpha*rho times the optimizer's "
      "per-coordinate step scale) hold the cumulative L1 penalty's state, updated in place "
      "(None: a fresh zero state for this call only).");
  m.def(
      "minibatch_passes",
      [](const py::object& X, const py::object& y, const py::object& sample_weight,
         const py::array_t<std::int64_t, py::array::c_style>& order, std::int64_t pass_rows,
         int loss_kind, double loss_param, int penalty, double alpha, double l1_ratio,
         bool fit_intercept, std::int64_t batch_size, const std::string& optimizer,
         const py::tuple& hyper, const py::array_t<double, py::array::c_style>& lr,
         const py::object& coef, const py::object& intercept, const py::list& coef_states,
         const py::list& intercept_states, const py::object& counters, const py::object& scalars,
         const py::object& l1_q, const py::object& l1_u) {
        if (pass_rows < 1) throw py::value_error("pass_rows must be >= 1");
        const ArrayView xv = matrix(X);
        const MinibatchOptions mo = minibatch_options(loss_kind, loss_param, penalty, alpha,
                                                      l1_ratio, fit_intercept, batch_size);
        const OptimizerOptions opt = optimizer_options(optimizer, hyper);
        const DType dt = xv.dtype;
        const std::int64_t passes = order.ndim() == 1 ? order.shape(0) / pass_rows : 0;
        std::vector<PassSummary> out(static_cast<std::size_t>(passes));
        auto build = [&](auto tag) {
          using T = decltype(tag);
          const DenseData<T> data = dense_data<T>(xv, y, sample_weight);
          run_model<T>(data.d, 1, dt, order, mo, lr, coef, intercept, coef_states,
                       intercept_states, counters, scalars, l1_q, l1_u,
                       [&](LinearModel<T>& model, std::int64_t count) {
                         gd::minibatch_passes(data, order.data(), count, pass_rows, mo, opt,
                                              lr.data(), model, out.data());
                         return 0.0;
                       },
                       pass_rows);
        };
        if (dt == DType::f32) build(float{}); else build(double{});
        py::array_t<double> loss(passes), sq_norm(passes);
        py::array_t<bool> finite(passes);
        for (std::int64_t p = 0; p < passes; ++p) {
          loss.mutable_at(p) = out[std::size_t(p)].loss;
          sq_norm.mutable_at(p) = out[std::size_t(p)].sq_norm;
          finite.mutable_at(p) = out[std::size_t(p)].finite;
        }
        return py::make_tuple(loss, sq_norm, finite);
      },
      py::arg("X"), py::arg("y"), py::arg("sample_weight"), py::arg("order"), py::arg("pass_rows"),
      py::arg("loss_kind"), py::arg("loss_param"), py::arg("penalty"), py::arg("alpha"),
      py::arg("l1_ratio"), py::arg("fit_intercept"), py::arg("batch_size"), py::arg("optimizer"),
      py::arg("hyper"), py::arg("lr"), py::arg("coef"), py::arg("intercept"),
      py::arg("coef_states"), py::arg("intercept_states"), py::arg("counters"),
      py::arg("scalars"), py::arg("l1_q") = py::none(), py::arg("l1_u") = py::none(),
      "minibatch_epoch over each pass of pass_rows rows of order, in one call: returns "
      "(loss, sq_norm, finite), one entry per pass -- its summed weighted loss, the squared "
      "norm of coef after it (dot in float64), and whether coef, intercept and the optimizer "
      "state were all finite after it.  lr: one learning rate per batch of every pass.");
  m.def(
      "minibatch_epoch_csr",
      [](const py::object& values, const py::object& indices, const py::object& indptr,
         std::int64_t n_features, const py::object& y, const py::object& sample_weight,
         const py::array_t<std::int64_t, py::array::c_style>& order, int loss_kind,
         double loss_param, int penalty, double alpha, double l1_ratio, bool fit_intercept,
         std::int64_t batch_size, const std::string& optimizer, const py::tuple& hyper,
         const py::array_t<double, py::array::c_style>& lr, const py::object& coef,
         const py::object& intercept, const py::list& coef_states,
         const py::list& intercept_states, const py::object& counters, const py::object& scalars, bool check, const py::object& l1_q,
         const py::object& l1_u) {
        const CsrView cv = view_csr(values, indices, indptr, n_features);
        const MinibatchOptions mo = minibatch_options(loss_kind, loss_param, penalty, alpha,
                                                      l1_ratio, fit_intercept, batch_size);
        const OptimizerOptions opt = optimizer_options(optimizer, hyper);
        const DType dt = cv.values.dtype;
        auto build = [&](auto tag, auto index_tag) {
          using T = decltype(tag);
          using I = decltype(index_tag);
          const CsrData<T, I> data = csr_data<T, I>(cv, n_features, y, sample_weight, check);
          return run_model<T>(data.d, 1, dt, order, mo, lr, coef, intercept, coef_states,
                              intercept_states, counters, scalars, l1_q, l1_u,
                              [&](LinearModel<T>& model, std::int64_t count) {
                                return gd::minibatch_epoch(data, order.data(), count, mo, opt,
                                                           lr.data(), model);
                              });
        };
        return dispatch_csr(cv, build);
      },
      py::arg("data"), py::arg("indices"), py::arg("indptr"), py::arg("n_features"), py::arg("y"),
      py::arg("sample_weight"), py::arg("order"), py::arg("loss_kind"), py::arg("loss_param"),
      py::arg("penalty"), py::arg("alpha"), py::arg("l1_ratio"), py::arg("fit_intercept"),
      py::arg("batch_size"), py::arg("optimizer"), py::arg("hyper"), py::arg("lr"),
      py::arg("coef"), py::arg("intercept"), py::arg("coef_states"), py::arg("intercept_states"),
      py::arg("counters"), py::arg("scalars"), py::arg("check") = true,
      py::arg("l1_q") = py::none(), py::arg("l1_u") = py::none(),
      "minibatch_epoch on CSR rows (O(nnz) gradient; dense optimizer update per batch). "
      "check=False skips the O(nnz) structure check: only for arrays an earlier call checked "
      "and nothing changed since.");
  m.def(
      "multinomial_epoch",
      [](const py::object& X, const py::object& y, const py::object& sample_weight,
         const py::array_t<std::int64_t, py::array::c_style>& order, std::int64_t n_classes,
         int penalty, double alpha, double l1_ratio, bool fit_intercept, std::int64_t batch_size,
         const std::string& optimizer, const py::tuple& hyper,
         const py::array_t<double, py::array::c_style>& lr, const py::object& coef,
         const py::object& intercept, const py::list& coef_states,
         const py::list& intercept_states, const py::object& counters, const py::object& scalars, const py::object& l1_q,
         const py::object& l1_u) {
        const ArrayView xv = matrix(X);
        const MinibatchOptions mo =
            minibatch_options(4, 0.0, penalty, alpha, l1_ratio, fit_intercept, batch_size);
        const OptimizerOptions opt = optimizer_options(optimizer, hyper);
        const DType dt = xv.dtype;
        auto build = [&](auto tag) {
          using T = decltype(tag);
          const DenseData<T> data = dense_data<T>(xv, y, sample_weight);
          if (n_classes < 2) throw py::value_error("n_classes must be >= 2");
          return run_model<T>(n_classes * data.d, n_classes, dt, order, mo, lr, coef, intercept,
                              coef_states, intercept_states, counters, scalars, l1_q, l1_u,
                              [&](LinearModel<T>& model, std::int64_t count) {
                                return gd::multinomial_epoch(data, n_classes, order.data(), count,
                                                             mo, opt, lr.data(), model);
                              });
        };
        return dt == DType::f32 ? build(float{}) : build(double{});
      },
      py::arg("X"), py::arg("y"), py::arg("sample_weight"), py::arg("order"), py::arg("n_classes"),
      py::arg("penalty"), py::arg("alpha"), py::arg("l1_ratio"), py::arg("fit_intercept"),
      py::arg("batch_size"), py::arg("optimizer"), py::arg("hyper"), py::arg("lr"),
      py::arg("coef"), py::arg("intercept"), py::arg("coef_states"), py::arg("intercept_states"),
      py::arg("counters"), py::arg("scalars"), py::arg("l1_q") = py::none(),
      py::arg("l1_u") = py::none(),
      "One fused pass of softmax regression (coef: n_classes*n_features, row-major; "
      "l1_q and l1_u: as many values each, as minibatch_epoch's).");
  m.def(
      "multinomial_epoch_csr",
      [](const py::object& values, const py::object& indices, const py::object& indptr,
         std::int64_t n_features, const py::object& y, const py::object& sample_weight,
         const py::array_t<std::int64_t, py::array::c_style>& order, std::int64_t n_classes,
         int penalty, double alpha, double l1_ratio, bool fit_intercept, std::int64_t batch_size,
         const std::string& optimizer, const py::tuple& hyper,
         const py::array_t<double, py::array::c_style>& lr, const py::object& coef,
         const py::object& intercept, const py::list& coef_states,
         const py::list& intercept_states, const py::object& counters, const py::object& scalars, bool check, const py::object& l1_q,
         const py::object& l1_u) {
        const CsrView cv = view_csr(values, indices, indptr, n_features);
        const MinibatchOptions mo =
            minibatch_options(4, 0.0, penalty, alpha, l1_ratio, fit_intercept, batch_size);
        const OptimizerOptions opt = optimizer_options(optimizer, hyper);
        const DType dt = cv.values.dtype;
        if (n_classes < 2) throw py::value_error("n_classes must be >= 2");
        auto build = [&](auto tag, auto index_tag) {
          using T = decltype(tag);
          using I = decltype(index_tag);
          const CsrData<T, I> data = csr_data<T, I>(cv, n_features, y, sample_weight, check);
          return run_model<T>(n_classes * data.d, n_classes, dt, order, mo, lr, coef, intercept,
                              coef_states, intercept_states, counters, scalars, l1_q, l1_u,
                              [&](LinearModel<T>& model, std::int64_t count) {
                                return gd::multinomial_epoch(data, n_classes, order.data(), count,
                                                             mo, opt, lr.data(), model);
                              });
        };
        return dispatch_csr(cv, build);
      },
      py::arg("data"), py::arg("indices"), py::arg("indptr"), py::arg("n_features"), py::arg("y"),
      py::arg("sample_weight"), py::arg("order"), py::arg("n_classes"), py::arg("penalty"),
      py::arg("alpha"), py::arg("l1_ratio"), py::arg("fit_intercept"), py::arg("batch_size"),
      py::arg("optimizer"), py::arg("hyper"), py::arg("lr"), py::arg("coef"), py::arg("intercept"),
      py::arg("coef_states"), py::arg("intercept_states"), py::arg("counters"), py::arg("scalars"),
      py::arg("check") = true, py::arg("l1_q") = py::none(), py::arg("l1_u") = py::none(),
      "multinomial_epoch on CSR rows (O(n_classes*nnz) gradient of a batch; dense optimizer "
      "update of the n_classes*n_features weights per batch).  check=False skips the O(nnz) "
      "structure check: only for arrays an earlier call checked and nothing changed since.");
  m.def(
      "decision_function",
      [](const py::object& X, const py::object& coef, double intercept, const py::object& rows) {
        const ArrayView xv = matrix(X);
        const std::int64_t n = xv.shape[0], d = xv.shape[1];
        const ArrayView wv = view_vector(coef, "coef", d, xv.dtype, false);
        py::array_t<std::int64_t, py::array::c_style | py::array::forcecast> r;
        const std::int64_t* rp = nullptr;
        std::int64_t m = n;
        if (!rows.is_none()) {
          r = checked_rows(rows, n);
          rp = r.data();
          m = r.shape(0);
        }
        auto run = [&](auto* x, auto* w, auto b) {
          using T = std::remove_const_t<std::remove_pointer_t<decltype(x)>>;
          py::array_t<T> out(m);
          DenseData<T> data{x, nullptr, nullptr, n, d};
          T* o = out.mutable_data();
          {
            py::gil_scoped_release release;
            if (rp != nullptr) gd::decision_function(data, rp, m, w, b, o);
            else gd::decision_function(data, w, b, o);
          }
          return py::array(out);
        };
        if (xv.dtype == DType::f32)
          return run(static_cast<const float*>(xv.data), static_cast<const float*>(wv.data),
                     float(intercept));
        return run(static_cast<const double*>(xv.data), static_cast<const double*>(wv.data),
                   intercept);
      },
      py::arg("X"), py::arg("coef"), py::arg("intercept"), py::arg("rows") = py::none(),
      "X @ coef + intercept for every row, or for the rows `rows` only (in that order).");
  m.def(
      "decision_function_csr",
      [](const py::object& values, const py::object& indices, const py::object& indptr,
         std::int64_t n_features, const py::object& coef, double intercept,
         const py::object& rows) {
        const CsrView cv = view_csr(values, indices, indptr, n_features);
        const ArrayView wv = view_vector(coef, "coef", n_features, cv.values.dtype, false);
        py::array_t<std::int64_t, py::array::c_style | py::array::forcecast> r;
        const std::int64_t* rp = nullptr;
        std::int64_t m = cv.rows;
        if (!rows.is_none()) {
          r = checked_rows(rows, cv.rows);
          rp = r.data();
          m = r.shape(0);
        }
        auto build = [&](auto tag, auto index_tag) {
          using T = decltype(tag);
          using I = decltype(index_tag);
          const CsrData<T, I> data = csr_rows<T, I>(cv, n_features);
          py::array_t<T> out(m);
          T* o = out.mutable_data();
          const T* w = static_cast<const T*>(wv.data);
          {
            py::gil_scoped_release release;
            gd::decision_function(data, rp, m, w, T(intercept), o);
          }
          return py::array(out);
        };
        return dispatch_csr(cv, build);
      },
      py::arg("data"), py::arg("indices"), py::arg("indptr"), py::arg("n_features"),
      py::arg("coef"), py::arg("intercept"), py::arg("rows") = py::none(),
      "decision_function for CSR rows (scipy.sparse's data, indices and indptr): every "
      "row, or the rows `rows` only (in that order).");
  m.def(
      "dot",
      [](const py::object& x, const py::object& w) -> double {
        const ArrayView xv = view_float_array(x.ptr(), Name{"x"});
        if (xv.ndim != 1 || !xv.c_contiguous) throw py::value_error("x must be a contiguous 1-D array");
        const ArrayView wv = view_vector(w, "w", xv.size, xv.dtype, false);
        if (xv.dtype == DType::f32)
          return gd::dot(static_cast<const float*>(xv.data), static_cast<const float*>(wv.data),
                         xv.size);
        return gd::dot(static_cast<const double*>(xv.data), static_cast<const double*>(wv.data),
                       xv.size);
      },
      py::arg("x"), py::arg("w"), "Fixed-order dot product (16 partial sums).");
  m.def(
      "block_order",
      [](const I64Array& blocks, const I64Array& within, std::int64_t size, const py::array& out) {
        if (blocks.ndim() != 1 || within.ndim() != 1)
          throw py::value_error("blocks and within must be 1-D");
        if (!flat(out) || !has_dtype<std::int64_t>(out.ptr()) || !out.writeable())
          throw py::value_error("out must be a writeable contiguous 1-D int64 array");
        auto* o = static_cast<std::int64_t*>(const_cast<void*>(out.data()));
        const std::int64_t nb = blocks.shape(0), nw = within.shape(0), n = out.shape(0);
        py::gil_scoped_release release;
        gd::block_order(blocks.data(), nb, within.data(), nw, size, n, o);
      },
      py::arg("blocks"), py::arg("within"), py::arg("size"), py::arg("out"),
      "Fill out (one entry per row) with the rows 0..n-1 in blocks of `size`: "
      "block blocks[k] k-th, rows inside a block in the order `within`.");
  // integer labels: a contiguous 1-D int32 or int64 array (TypeError otherwise)
  auto int_labels = [](const py::array& y) {
    const bool i64 = has_dtype<std::int64_t>(y.ptr());
    if (!flat(y) || !(i64 || has_dtype<std::int32_t>(y.ptr())))
      throw py::type_error("y must be a contiguous 1-D int32 or int64 array");
    return i64;
  };
  m.def(
      "label_summary",
      [int_labels](const py::array& y) {
        const bool i64 = int_labels(y);
        const std::int64_t n = y.shape(0);
        gd::LabelSummary s;
        {
          py::gil_scoped_release release;
          s = i64 ? gd::label_summary(static_cast<const std::int64_t*>(y.data()), n)
                  : gd::label_summary(static_cast<const std::int32_t*>(y.data()), n);
        }
        return py::make_tuple(s.lo, s.hi, s.first, s.same_as_first, s.changes);
      },
      py::arg("y"),
      "(lo, hi, first, same_as_first, changes) of integer labels y in one pass: the smallest "
      "and largest label, y[0], how many labels equal y[0], and how many y[i] != y[i-1] "
      "(all 0 for an empty y).");
  m.def(
      "signed_targets",
      [int_labels](const py::array& y, std::int64_t positive, const py::array& out) {
        const bool i64 = int_labels(y);
        const bool f32 = has_dtype<float>(out.ptr());
        if (!flat(out) || !out.writeable() || !(f32 || has_dtype<double>(out.ptr())))
          throw py::type_error("out must be a writeable contiguous 1-D float32 or float64 array");
        if (out.shape(0) != y.shape(0))
          throw py::value_error("out must hold one value per label");
        const std::int64_t n = y.shape(0);
        const void* yp = y.data();
        void* o = const_cast<void*>(out.data());
        py::gil_scoped_release release;
        if (i64) {
          auto* yy = static_cast<const std::int64_t*>(yp);
          if (f32) gd::signed_targets(yy, n, positive, static_cast<float*>(o));
          else gd::signed_targets(yy, n, positive, static_cast<double*>(o));
        } else {
          auto* yy = static_cast<const std::int32_t*>(yp);
          if (f32) gd::signed_targets(yy, n, positive, static_cast<float*>(o));
          else gd::signed_targets(yy, n, positive, static_cast<double*>(o));
        }
      },
      py::arg("y"), py::arg("positive"), py::arg("out"),
      "out[i] = 1 where y[i] == positive, -1 elsewhere (integer labels y).");
  m.def(
      "shuffle_order",
      [](const py::object& order_obj, std::int64_t begin, std::int64_t end,
         const py::object& state_obj) {
        if (!py::isinstance<py::array>(order_obj))
          throw py::type_error("order must be a writeable contiguous 1-D int64 array");
        if (!py::isinstance<py::array>(state_obj))
          throw py::type_error("state must be a writeable uint64 array of shape (1,)");
        const auto order = py::reinterpret_borrow<py::array>(order_obj);
        const auto state = py::reinterpret_borrow<py::array>(state_obj);
        if (!flat(order) || !has_dtype<std::int64_t>(order.ptr()) || !order.writeable())
          throw py::type_error("order must be a writeable contiguous 1-D int64 array");
        if (state.ndim() != 1 || state.shape(0) != 1 ||
            !has_dtype<std::uint64_t>(state.ptr()) || !state.writeable())
          throw py::type_error("state must be a writeable uint64 array of shape (1,)");
        const std::int64_t n = order.shape(0);
        auto* o = static_cast<std::int64_t*>(const_cast<void*>(order.data()));
        auto* st = static_cast<std::uint64_t*>(const_cast<void*>(state.data()));
        if (n > 0 && static_cast<const void*>(st) >= static_cast<const void*>(o) &&
            static_cast<const void*>(st) < static_cast<const void*>(o + n))
          throw py::value_error("state must not share memory with order");
        std::uint64_t s = *st;
        {
          py::gil_scoped_release release;
          gd::shuffle_order(o, n, begin, end, s);
        }
        *st = s;
      },
      py::arg("order"), py::arg("begin"), py::arg("end"), py::arg("state"),
      "Draw positions [begin, end) of a forward Fisher-Yates shuffle of order in place "
      "(SplitMix64 with its state in state[0], advanced); order[:end] is then final.");
  m.def(
      "axpy_dot_",
      [](const py::object& w, const py::object& x, double a, const py::object& xn) -> double {
        const ArrayView xv = view_float_array(x.ptr(), Name{"x"});
        if (xv.ndim != 1 || !xv.c_contiguous) throw py::value_error("x must be a contiguous 1-D array");
        const ArrayView wv = view_vector(w, "w", xv.size, xv.dtype, true);
        const ArrayView nv = view_vector(xn, "xn", xv.size, xv.dtype, false);
        if (wv.data == xv.data || wv.data == nv.data)
          throw py::value_error("w must not share memory with x or xn");
        if (xv.dtype == DType::f32)
          return gd::axpy_dot(static_cast<float*>(wv.data), static_cast<const float*>(xv.data),
                              float(a), static_cast<const float*>(nv.data), xv.size);
        return gd::axpy_dot(static_cast<double*>(wv.data), static_cast<const double*>(xv.data), a,
                            static_cast<const double*>(nv.data), xv.size);
      },
      py::arg("w"), py::arg("x"), py::arg("a"), py::arg("xn"),
      "w += a*x in place, then return dot(xn, w) (one pass).");
}

}  // namespace gd::python
