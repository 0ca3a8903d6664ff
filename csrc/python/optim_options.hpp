// Decoding of an optimizer's name and hyperparameter tuple (as the Python
// optimizer classes send them) into the C++ options structs.  Shared by the
// optimizer and the linear-model bindings.
#pragma once

#include <pybind11/pybind11.h>

#include <string>
#include <type_traits>
#include <vector>

#include "buffers.hpp"
#include "gdcore/linear.hpp"
#include "gdcore/optim.hpp"

namespace gd::python {
namespace py = pybind11;

enum class Kind { sgd, adam, rmsprop, adagrad, adadelta, adamax, nadam, radam, lion };

struct KindInfo {
  const char* name;
  Kind kind;
  std::vector<const char*> hyper;  // names of the hyperparameter tuple, in order
};

inline const std::vector<KindInfo>& kinds() {
  static const std::vector<KindInfo> k = {
      {"sgd", Kind::sgd, {"lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"}},
      {"adam", Kind::adam,
       {"lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad", "maximize",
        "decoupled_weight_decay"}},
      {"rmsprop", Kind::rmsprop,
       {"lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"}},
      {"adagrad", Kind::adagrad, {"lr", "lr_decay", "weight_decay", "eps", "maximize"}},
      {"adadelta", Kind::adadelta, {"lr", "rho", "eps", "weight_decay", "maximize"}},
      {"adamax", Kind::adamax, {"lr", "beta1", "beta2", "eps", "weight_decay", "maximize"}},
      {"nadam", Kind::nadam,
       {"lr", "beta1", "beta2", "eps", "weight_decay", "momentum_decay",
        "decoupled_weight_decay", "maximize"}},
      {"radam", Kind::radam,
       {"lr", "beta1", "beta2", "eps", "weight_decay", "decoupled_weight_decay", "maximize"}},
      {"lion", Kind::lion, {"lr", "beta1", "beta2", "weight_decay", "maximize"}},
  };
  return k;
}

inline const KindInfo& find_kind(const std::string& name) {
  for (const auto& k : kinds())
    if (name == k.name) return k;
  throw py::value_error("unknown optimizer kind '" + name + "'");
}

// Hyperparameters as doubles, checked for type and count.
struct Hyper {
  double v[8];
  double operator[](int i) const { return v[i]; }
  bool flag(int i) const { return v[i] != 0.0; }
};

inline Hyper read_hyper(const KindInfo& info, const py::tuple& t) {
  const std::size_t n = info.hyper.size();
  if (t.size() != n)
    throw py::value_error(std::string(info.name) + " expects " + std::to_string(n) +
                          " hyperparameters, got " + std::to_string(t.size()));
  Hyper h{};
  for (std::size_t i = 0; i < n; ++i) {
    PyObject* o = t[i].ptr();
    if (PyBool_Check(o)) {
      h.v[i] = (o == Py_True) ? 1.0 : 0.0;
      continue;
    }
    const double d = PyFloat_AsDouble(o);
    if (d == -1.0 && PyErr_Occurred()) {
      PyErr_Clear();
      throw py::type_error(std::string(info.hyper[i]) + " must be a real number, got " +
                           describe(o));
    }
    h.v[i] = d;
  }
  return h;
}

inline SGDOptions sgd_opts(const Hyper& h) {
  SGDOptions o;
  o.lr = h[0], o.momentum = h[1], o.dampening = h[2], o.weight_decay = h[3];
  o.nesterov = h.flag(4), o.maximize = h.flag(5);
  return o;
}
inline AdamOptions adam_opts(const Hyper& h) {
  AdamOptions o;
  o.lr = h[0], o.beta1 = h[1], o.beta2 = h[2], o.eps = h[3], o.weight_decay = h[4];
  o.amsgrad = h.flag(5), o.maximize = h.flag(6), o.decoupled_weight_decay = h.flag(7);
  return o;
}
inline RMSpropOptions rmsprop_opts(const Hyper& h) {
  RMSpropOptions o;
  o.lr = h[0], o.alpha = h[1], o.eps = h[2], o.weight_decay = h[3], o.momentum = h[4];
  o.centered = h.flag(5), o.maximize = h.flag(6);
  return o;
}
inline AdagradOptions adagrad_opts(const Hyper& h) {
  AdagradOptions o;
  o.lr = h[0], o.lr_decay = h[1], o.weight_decay = h[2], o.eps = h[3], o.maximize = h.flag(4);
  return o;
}
inline AdadeltaOptions adadelta_opts(const Hyper& h) {
  AdadeltaOptions o;
  o.lr = h[0], o.rho = h[1], o.eps = h[2], o.weight_decay = h[3], o.maximize = h.flag(4);
  return o;
}
inline AdamaxOptions adamax_opts(const Hyper& h) {
  AdamaxOptions o;
  o.lr = h[0], o.beta1 = h[1], o.beta2 = h[2], o.eps = h[3], o.weight_decay = h[4];
  o.maximize = h.flag(5);
  return o;
}
inline NAdamOptions nadam_opts(const Hyper& h) {
  NAdamOptions o;
  o.lr = h[0], o.beta1 = h[1], o.beta2 = h[2], o.eps = h[3], o.weight_decay = h[4];
  o.momentum_decay = h[5], o.decoupled_weight_decay = h.flag(6), o.maximize = h.flag(7);
  return o;
}
inline RAdamOptions radam_opts(const Hyper& h) {
  RAdamOptions o;
  o.lr = h[0], o.beta1 = h[1], o.beta2 = h[2], o.eps = h[3], o.weight_decay = h[4];
  o.decoupled_weight_decay = h.flag(5), o.maximize = h.flag(6);
  return o;
}
inline LionOptions lion_opts(const Hyper& h) {
  LionOptions o;
  o.lr = h[0], o.beta1 = h[1], o.beta2 = h[2], o.weight_decay = h[3], o.maximize = h.flag(4);
  return o;
}

// Calls f(options) with the kind's options struct.
template <class F>
void with_options(Kind k, const Hyper& h, F&& f) {
  switch (k) {
    case Kind::sgd: return f(sgd_opts(h));
    case Kind::adam: return f(adam_opts(h));
    case Kind::rmsprop: return f(rmsprop_opts(h));
    case Kind::adagrad: return f(adagrad_opts(h));
    case Kind::adadelta: return f(adadelta_opts(h));
    case Kind::adamax: return f(adamax_opts(h));
    case Kind::nadam: return f(nadam_opts(h));
    case Kind::radam: return f(radam_opts(h));
    case Kind::lion: return f(lion_opts(h));
  }
}

template <class T>
inline void step_dispatch(Kind k, const Hyper& h, ParamSlot<T>* ts, std::size_t n) {
  with_options(k, h, [&](const auto& o) {
    using O = std::decay_t<decltype(o)>;
    if constexpr (std::is_same_v<O, SGDOptions>) sgd_step(o, ts, n);
    else if constexpr (std::is_same_v<O, AdamOptions>) adam_step(o, ts, n);
    else if constexpr (std::is_same_v<O, RMSpropOptions>) rmsprop_step(o, ts, n);
    else if constexpr (std::is_same_v<O, AdagradOptions>) adagrad_step(o, ts, n);
    else if constexpr (std::is_same_v<O, AdadeltaOptions>) adadelta_step(o, ts, n);
    else if constexpr (std::is_same_v<O, AdamaxOptions>) adamax_step(o, ts, n);
    else if constexpr (std::is_same_v<O, NAdamOptions>) nadam_step(o, ts, n);
    else if constexpr (std::is_same_v<O, RAdamOptions>) radam_step(o, ts, n);
    else lion_step(o, ts, n);
  });
}

inline void validate_hyper(Kind k, const Hyper& h) {
  with_options(k, h, [](const auto& o) { gd::validate(o); });
}

/// The options of optimizer `k` as the variant the fused loops take.
inline OptimizerOptions to_variant(Kind k, const Hyper& h) {
  OptimizerOptions out;
  with_options(k, h, [&](const auto& o) { out = o; });
  return out;
}

}  // namespace gd::python
