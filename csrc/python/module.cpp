// gdcore._core: registers each area; no code of its own.
#include <pybind11/pybind11.h>

namespace gd::python {
void register_runtime(pybind11::module_& m);
void register_optim(pybind11::module_& m);
void register_clip(pybind11::module_& m);
void register_losses(pybind11::module_& m);
void register_linear(pybind11::module_& m);
void register_plain_sgd(pybind11::module_& m);
}  // namespace gd::python

PYBIND11_MODULE(_core, m) {
  m.doc() = "gdcore's compiled kernels (private; use the gdcore package)";
  gd::python::register_runtime(m);
  gd::python::register_optim(m);
  gd::python::register_clip(m);
  gd::python::register_losses(m);
  gd::python::register_linear(m);
  gd::python::register_plain_sgd(m);
}
