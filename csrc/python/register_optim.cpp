// Bindings of gdcore/optim.hpp: the ParamGroup object that the Python
// optimizer classes drive.  No numerics here.
//
// A ParamGroup holds the parameter and state arrays of one param group,
// validated once, and per-tensor step counts.  step() then only has to check
// the gradients (cheap header reads), release the GIL and make one call per
// dtype — no Python loop and no buffer request per array.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "buffers.hpp"
#include "gdcore/optim.hpp"
#include "optim_options.hpp"

namespace gd::python {
namespace py = pybind11;

namespace {

class ParamGroup {
 public:
  ParamGroup(const std::string& kind, const py::list& params, const py::list& states,
             const std::vector<std::int64_t>& steps, const std::vector<double>& scalars,
             const std::vector<int>& initialized, long index_base)
      : info_(&find_kind(kind)) {
    const std::size_t n = params.size();
    if (states.size() != n || steps.size() != n || scalars.size() != n ||
        initialized.size() != n)
      throw py::value_error("params, states, steps, scalars and initialized differ in length");
    for (std::size_t i = 0; i < n; ++i) {
      const std::string name = "parameter " + std::to_string(index_base + long(i));
      ArrayView p = view_inplace_array(params[i].ptr(), Name{"parameter", index_base + long(i)});
      ParamSlotAny slot;
      slot.size = p.size;
      slot.param = p.data;
      if (steps[i] < 0)
        throw py::value_error(name + " has step count " + std::to_string(steps[i]) +
                              "; step counts are >= 0");
      slot.step = steps[i];
      slot.scalar = scalars[i];
      slot.initialized = std::uint8_t(initialized[i] != 0);
      py::sequence st = py::reinterpret_borrow<py::sequence>(states[i]);
      if (st.size() > 3) throw py::value_error("at most 3 state buffers per parameter");
      for (std::size_t k = 0; k < st.size(); ++k) {
        if (st[k].is_none()) continue;
        const std::string sname = name + " state buffer " + std::to_string(k);
        ArrayView s = view_inplace_array(st[k].ptr(), Name{sname.c_str()});
        if (s.dtype != p.dtype)
          throw py::value_error(sname + " has dtype " + dtype_name(s.dtype) +
                                " but the parameter has dtype " + dtype_name(p.dtype));
        if (s.size != p.size)
          throw py::value_error(sname + " has " + std::to_string(s.size) +
                                " elements but the parameter has " + std::to_string(p.size));
        slot.state[k] = s.data;
        slot.state_obj[k] = st[k];
        refs_.push_back(st[k]);
      }
      params_.push_back(params[i]);
      f32_param_.push_back(p.dtype == DType::f32);
      slots_.push_back(slot);
    }
    // Every array the kernels write -- parameters and state buffers -- is
    // disjoint from every other: the kernels take them as restrict pointers
    // and split them between threads, so an overlap gives results that
    // depend on the ISA path and the thread count.
    // (empty arrays write nothing and are left out: the list is then
    // disjoint, so its ends are sorted too, which check_gradient_memory uses)
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      const ParamSlotAny& a = slots_[i];
      const std::int64_t bytes = a.size * (f32_param_[i] ? 4 : 8);
      if (bytes == 0) continue;
      written_.push_back(Written{a.param, bytes, long(i), -1});
      for (int k = 0; k < 3; ++k)
        if (a.state[k] != nullptr) written_.push_back(Written{a.state[k], bytes, long(i), k});
    }
    std::sort(written_.begin(), written_.end(),
              [](const Written& x, const Written& y) { return x.begin() < y.begin(); });
    for (std::size_t j = 1; j < written_.size(); ++j)
      if (written_[j - 1].end() > written_[j].begin())
        throw py::value_error(written_[j - 1].name(index_base) + " and " +
                              written_[j].name(index_base) + " share memory");
  }

  /// Check everything step() would check, without writing.
  void check(const py::list& params, const py::object& grads, const py::tuple& hyper,
             long index_base) {
    Busy guard(busy_);
    prepare(params, grads, hyper, index_base);
    temps_.clear();
  }

  /// Whether `params` still holds exactly the arrays this group was built from.
  bool matches(const py::list& params) const { return same_params(params); }

  /// One update of every parameter whose gradient is not None.  Returns
  /// false (and does nothing) if `params` no longer holds the arrays this
  /// group was built from.
  bool step(const py::list& params, const py::object& grads, const py::tuple& hyper,
            long index_base) {
    if (!same_params(params)) return false;
    Busy guard(busy_);
    const Hyper h = prepare(params, grads, hyper, index_base);
    {
      py::gil_scoped_release release;
      if (!f32_.empty()) step_dispatch(info_->kind, h, f32_.data(), f32_.size());
      if (!f64_.empty()) step_dispatch(info_->kind, h, f64_.data(), f64_.size());
    }
    for (std::size_t j = 0; j < f32_.size(); ++j) commit(f32_index_[j], f32_[j]);
    for (std::size_t j = 0; j < f64_.size(); ++j) commit(f64_index_[j], f64_[j]);
    temps_.clear();
    return true;
  }

  std::vector<std::int64_t> steps() const {
    std::vector<std::int64_t> out;
    for (const auto& s : slots_) out.push_back(s.step);
    return out;
  }
  std::vector<double> scalars() const {
    std::vector<double> out;
    for (const auto& s : slots_) out.push_back(s.scalar);
    return out;
  }
  std::vector<int> initialized() const {
    std::vector<int> out;
    for (const auto& s : slots_) out.push_back(s.initialized);
    return out;
  }
  std::size_t size() const { return slots_.size(); }

 private:
  // step() releases the GIL; a second step() on the same group from another
  // thread meanwhile would reuse the scratch lists under the running kernel.
  struct Busy {
    explicit Busy(bool& b) : flag(b) {
      if (flag)
        throw std::runtime_error(
            "optimizer step called concurrently on the same parameter group from two threads");
      flag = true;
    }
    ~Busy() { flag = false; }
    bool& flag;
  };

  struct ParamSlotAny {
    void* param = nullptr;
    void* state[3] = {nullptr, nullptr, nullptr};
    py::handle state_obj[3];  // (kept alive by refs_)
    std::int64_t size = 0, step = 0;
    double scalar = 1.0;
    std::uint8_t initialized = 0;
  };

  bool same_params(const py::list& params) const {
    if (params.size() != params_.size()) return false;
    for (std::size_t i = 0; i < params_.size(); ++i)
      if (PyList_GET_ITEM(params.ptr(), Py_ssize_t(i)) != params_[i].ptr()) return false;
    return true;
  }

  template <class T>
  static ParamSlot<T> typed(const ParamSlotAny& a, const void* grad) {
    ParamSlot<T> s;
    s.param = static_cast<T*>(a.param);
    s.grad = static_cast<const T*>(grad);
    for (int k = 0; k < 3; ++k) s.state[k] = static_cast<T*>(a.state[k]);
    s.size = a.size;
    s.step = a.step;
    s.scalar = a.scalar;
    s.initialized = a.initialized;
    return s;
  }

  template <class T>
  void commit(std::size_t i, const ParamSlot<T>& s) {
    slots_[i].step = s.step;
    slots_[i].scalar = s.scalar;
    slots_[i].initialized = s.initialized;
  }

  Hyper prepare(const py::list& params, const py::object& grads, const py::tuple& hyper,
                long index_base) {
    (void)params;
    const Hyper h = read_hyper(*info_, hyper);
    validate_hyper(info_->kind, h);
    PyObject* g = grads.ptr();
    if (!PyList_Check(g) && !PyTuple_Check(g))
      throw py::type_error("grads must be a list or tuple of arrays, got " + describe(g));
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(g);
    if (std::size_t(n) != slots_.size())
      throw py::value_error("expected " + std::to_string(slots_.size()) +
                            " gradients (one per parameter), got " + std::to_string(n));
    PyObject** items = PySequence_Fast_ITEMS(g);
    f32_.clear();
    f64_.clear();
    f32_index_.clear();
    f64_index_.clear();
    temps_.clear();
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* gi = items[i];
      if (gi == Py_None) continue;
      const ParamSlotAny& a = slots_[std::size_t(i)];
      // The parameter and its state as they are now: numpy lets an array be
      // made read-only, reshaped, or resized in place (new memory) after
      // the group was built.  A new shape of the same elements is taken; a
      // new size or new memory is an error (the group holds the old one).
      const ArrayView p = current(params_[std::size_t(i)].ptr(), a.param, a.size,
                                  Name{"parameter", index_base + long(i)});
      for (int k = 0; k < 3; ++k)
        if (a.state[k] != nullptr)
          current(a.state_obj[k].ptr(), a.state[k], a.size,
                  Name{"parameter", index_base + long(i), k});
      const Name name{"gradient", index_base + long(i)};
      ArrayView gv = view_float_array(gi, name);
      if (gv.dtype != p.dtype)
        throw py::value_error(name.str() + " has dtype " + dtype_name(gv.dtype) +
                              " but its parameter has dtype " + dtype_name(p.dtype));
      if (!same_shape(gv, p))
        throw py::value_error(name.str() + " has shape " + shape_str(gv) +
                              " but its parameter has shape " + shape_str(p));
      if (!gv.c_contiguous || !gv.aligned) {
        // A strided gradient is read through a contiguous copy.
        py::object c = py::module_::import("numpy").attr("ascontiguousarray")(py::handle(gi));
        gv = view_float_array(c.ptr(), name);
        temps_.push_back(std::move(c));
      } else {
        check_gradient_memory(gv, std::size_t(i), index_base);
      }
      if (p.dtype == DType::f32) {
        f32_.push_back(typed<float>(a, gv.data));
        f32_index_.push_back(std::size_t(i));
      } else {
        f64_.push_back(typed<double>(a, gv.data));
        f64_index_.push_back(std::size_t(i));
      }
    }
    check_state(h);
    return h;
  }

  // One array the kernels write: parameter `index` (state -1) or its state
  // buffer `state`.
  struct Written {
    const void* data;
    std::int64_t bytes;
    long index;
    int state;
    const char* begin() const { return static_cast<const char*>(data); }
    const char* end() const { return begin() + bytes; }
    std::string name(long base) const { return Name{"parameter", base + index, state}.str(); }
  };

  // The array `o` now: still writeable, contiguous, at `data` with `size`
  // elements (ValueError naming it otherwise).
  static ArrayView current(PyObject* o, const void* data, std::int64_t size, const Name& name) {
    ArrayView v = view_inplace_array(o, name);
    if (v.data != data || v.size != size)
      throw py::value_error(name.str() + " was resized or moved in memory since the optimizer "
                            "took it (" + std::to_string(size) + " elements before, " +
                            std::to_string(v.size) + " now); create the optimizer again");
    return v;
  }

  // A gradient read in place shares no memory with any array the step
  // writes, except that it may be its own parameter exactly (each element
  // is read before it is written).
  void check_gradient_memory(const ArrayView& g, std::size_t i, long index_base) const {
    const char* gb = static_cast<const char*>(g.data);
    const std::int64_t bytes = g.size * (g.dtype == DType::f32 ? 4 : 8);
    if (bytes == 0 || written_.empty()) return;
    // the last written array starting at or before the gradient, and on
    // (disjoint and sorted: no earlier one reaches past it)
    auto it = std::upper_bound(written_.begin(), written_.end(), gb,
                               [](const char* x, const Written& w) { return x < w.begin(); });
    if (it != written_.begin()) --it;
    for (; it != written_.end() && it->begin() < gb + bytes; ++it) {
      if (it->end() <= gb) continue;
      if (it->state < 0 && std::size_t(it->index) == i && it->begin() == gb && it->bytes == bytes)
        continue;
      throw py::value_error("gradient " + std::to_string(index_base + long(i)) +
                            " shares memory with " + it->name(index_base) +
                            ", which the step writes");
    }
  }

  // The state buffers this configuration needs must exist (the Python layer
  // allocates them; this guards against a mismatch, before any write).
  void check_state(const Hyper& h) const {
    unsigned need = 0;
    switch (info_->kind) {
      case Kind::sgd: need = h[1] != 0.0 ? 1u : 0u; break;
      case Kind::adam: need = h.flag(5) ? 7u : 3u; break;
      case Kind::rmsprop: need = 1u | (h[4] > 0.0 ? 2u : 0u) | (h.flag(5) ? 4u : 0u); break;
      case Kind::adagrad: case Kind::lion: need = 1u; break;
      default: need = 3u; break;
    }
    auto check = [&](const auto& list, const auto& index) {
      for (std::size_t j = 0; j < list.size(); ++j)
        for (int k = 0; k < 3; ++k)
          if (((need >> k) & 1u) && list[j].size > 0 && list[j].state[k] == nullptr)
            throw py::value_error("parameter " + std::to_string(index[j]) +
                                  " lacks state buffer " + std::to_string(k) + " for " +
                                  info_->name);
    };
    check(f32_, f32_index_);
    check(f64_, f64_index_);
  }

  const KindInfo* info_;
  bool busy_ = false;
  std::vector<py::object> params_;
  std::vector<py::object> refs_;
  std::vector<ParamSlotAny> slots_;
  std::vector<bool> f32_param_;
  std::vector<Written> written_;  // sorted by address
  // scratch, reused between steps
  std::vector<ParamSlot<float>> f32_;
  std::vector<ParamSlot<double>> f64_;
  std::vector<std::size_t> f32_index_, f64_index_;
  std::vector<py::object> temps_;
};

}  // namespace

void register_optim(py::module_& m) {
  py::class_<ParamGroup>(m, "ParamGroup",
                         "Parameter and state arrays of one param group, validated once.")
      .def(py::init<const std::string&, const py::list&, const py::list&,
                    const std::vector<std::int64_t>&, const std::vector<double>&,
                    const std::vector<int>&, long>(),
           py::arg("kind"), py::arg("params"), py::arg("states"), py::arg("steps"),
           py::arg("scalars"), py::arg("initialized"), py::arg("index_base") = 0)
      .def("step", &ParamGroup::step, py::arg("params"), py::arg("grads"), py::arg("hyper"),
           py::arg("index_base") = 0)
      .def("check", &ParamGroup::check, py::arg("params"), py::arg("grads"), py::arg("hyper"),
           py::arg("index_base") = 0)
      .def("matches", &ParamGroup::matches, py::arg("params"))
      .def("steps", &ParamGroup::steps)
      .def("scalars", &ParamGroup::scalars)
      .def("initialized", &ParamGroup::initialized)
      .def("__len__", &ParamGroup::size);

  m.def(
      "validate_hyper",
      [](const std::string& kind, const py::tuple& hyper) {
        const KindInfo& info = find_kind(kind);
        validate_hyper(info.kind, read_hyper(info, hyper));
      },
      py::arg("kind"), py::arg("hyper"),
      "Raise ValueError/TypeError if the hyperparameter tuple is invalid.");
  m.def(
      "hyper_names",
      [](const std::string& kind) {
        std::vector<std::string> out;
        for (const char* n : find_kind(kind).hyper) out.emplace_back(n);
        return out;
      },
      py::arg("kind"));
}

}  // namespace gd::python
