// Bindings of gdcore/runtime.hpp: build information, ISA dispatch, threads.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "gdcore/runtime.hpp"

namespace gd::python {
namespace py = pybind11;

void register_runtime(py::module_& m) {
  m.attr("__version__") = gd::version();
  m.def("version", &gd::version);
  m.def("compiler", &gd::compiler);
  m.def("isa_compiled", &gd::isa_compiled);
  m.def("isa_supported", &gd::isa_supported);
  m.def("isa_active", &gd::isa_active);
  m.def("set_isa", &gd::set_isa, py::arg("name"));
  m.def("has_openmp", &gd::has_openmp);
  m.def("get_num_threads", &gd::get_num_threads);
  m.def("set_num_threads", &gd::set_num_threads, py::arg("n"));
}

}  // namespace gd::python
