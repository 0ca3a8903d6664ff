// Bindings of gdcore/losses.hpp: vectorised loss values and derivatives for
// the Python gdcore.losses objects.  No numerics here.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>

#include "gdcore/losses.hpp"

namespace gd::python {
namespace py = pybind11;

namespace {
template <class T>
py::array_t<T> elementwise(int kind, double param, const py::array_t<T, py::array::c_style>& y,
                           const py::array_t<T, py::array::c_style>& p, bool derivative) {
  if (y.size() != p.size()) throw py::value_error("y and p must have the same size");
  py::array_t<T> out(p.request().shape);
  Loss loss{LossKind(kind), param};
  const T* yd = y.data();
  const T* pd = p.data();
  T* od = out.mutable_data();
  const std::int64_t n = p.size();
  {
    py::gil_scoped_release release;
    if (derivative)
      gd::loss_derivative(loss, yd, pd, od, n);
    else
      gd::loss_value(loss, yd, pd, od, n);
  }
  return out;
}

template <class T>
py::tuple multinomial(const py::array_t<std::int64_t, py::array::c_style>& y,
                      const py::array_t<T, py::array::c_style>& p) {
  if (p.ndim() != 2) throw py::value_error("p must be 2-D (n_samples, n_classes)");
  const std::int64_t n = p.shape(0), k = p.shape(1);
  if (y.ndim() != 1 || y.shape(0) != n) throw py::value_error("y must be 1-D with one class per row of p");
  py::array_t<T> out(n);
  py::array_t<T> grad({n, k});
  const std::int64_t* yd = y.data();
  const T* pd = p.data();
  T* od = out.mutable_data();
  T* gdat = grad.mutable_data();
  gd::multinomial_loss(yd, pd, n, k, od, gdat);
  return py::make_tuple(out, grad);
}
}  // namespace

void register_losses(py::module_& m) {
  m.def("loss_value", &elementwise<double>, py::arg("kind"), py::arg("param"), py::arg("y"),
        py::arg("p"), py::arg("derivative") = false);
  m.def("loss_value", &elementwise<float>, py::arg("kind"), py::arg("param"), py::arg("y"),
        py::arg("p"), py::arg("derivative") = false);
  m.def("multinomial_loss", &multinomial<double>, py::arg("y"), py::arg("p"));
  m.def("multinomial_loss", &multinomial<float>, py::arg("y"), py::arg("p"));
}

}  // namespace gd::python
