// Bindings of gdcore/clip.hpp: norms, clipping, and the streaming axpy used
// by the benchmarks.  No numerics here.
#include <pybind11/pybind11.h>

#include <cmath>
#include <string>
#include <vector>

#include "buffers.hpp"
#include "gdcore/clip.hpp"

namespace gd::python {
namespace py = pybind11;

namespace {

struct Lists {
  std::vector<Span<float>> f32;
  std::vector<Span<double>> f64;
};

// Every array: float32/float64; for in-place use also writeable and
// contiguous.  All are checked before anything is computed.
Lists collect(const py::sequence& arrays, bool inplace, std::vector<py::object>& temps) {
  Lists out;
  const std::size_t n = arrays.size();
  for (std::size_t i = 0; i < n; ++i) {
    py::object a = arrays[i];
    const Name name{"gradient", long(i)};
    ArrayView v = inplace ? view_inplace_array(a.ptr(), name) : view_float_array(a.ptr(), name);
    if (!inplace && (!v.c_contiguous || !v.aligned)) {
      a = py::module_::import("numpy").attr("ascontiguousarray")(a);
      v = view_float_array(a.ptr(), name);
      temps.push_back(a);
    }
    if (v.dtype == DType::f32)
      out.f32.push_back({static_cast<float*>(v.data), v.size});
    else
      out.f64.push_back({static_cast<double*>(v.data), v.size});
  }
  return out;
}

void check_norm_type(double ord) {
  if (!(ord == 1.0 || ord == 2.0 || (std::isinf(ord) && ord > 0)))
    throw py::value_error("norm_type must be 1, 2 or inf, got " +
                          std::string(py::str(py::float_(ord))));
}

double total_norm_of(const Lists& l, double ord) {
  std::vector<Span<const float>> f32;
  std::vector<Span<const double>> f64;
  for (const auto& s : l.f32) f32.push_back({s.data, s.size});
  for (const auto& s : l.f64) f64.push_back({s.data, s.size});
  py::gil_scoped_release release;
  const double a = gd::total_norm(f32.data(), f32.size(), ord);
  const double b = gd::total_norm(f64.data(), f64.size(), ord);
  if (std::isinf(ord)) return (std::isnan(a) || std::isnan(b)) ? NAN : std::max(a, b);
  if (ord == 1.0) return a + b;
  return std::sqrt(a * a + b * b);
}

}  // namespace

void register_clip(py::module_& m) {
  m.def(
      "total_norm",
      [](const py::sequence& arrays, double ord) {
        check_norm_type(ord);
        std::vector<py::object> temps;
        return total_norm_of(collect(arrays, false, temps), ord);
      },
      py::arg("arrays"), py::arg("norm_type") = 2.0,
      "Norm of all arrays together (1, 2 or inf); fixed-order reduction.");
  m.def(
      "clip_norm_",
      [](const py::sequence& arrays, double max_norm, double ord, bool error_if_nonfinite) {
        check_norm_type(ord);
        if (std::isnan(max_norm)) throw py::value_error("max_norm must not be NaN");
        std::vector<py::object> temps;
        Lists l = collect(arrays, true, temps);
        const double total = total_norm_of(l, ord);
        if (error_if_nonfinite && !std::isfinite(total))
          return std::make_pair(total, false);
        // torch: clip_coef = max_norm / (total + 1e-6), clamped to <= 1, always applied.
        double coef = max_norm / (total + 1e-6);
        if (!(coef <= 1.0) && !std::isnan(coef)) coef = 1.0;
        {
          py::gil_scoped_release release;
          gd::scale(l.f32.data(), l.f32.size(), coef);
          gd::scale(l.f64.data(), l.f64.size(), coef);
        }
        return std::make_pair(total, true);
      },
      py::arg("arrays"), py::arg("max_norm"), py::arg("norm_type") = 2.0,
      py::arg("error_if_nonfinite") = false,
      "Scale arrays in place so their total norm is at most max_norm; returns "
      "(total_norm, applied).  With error_if_nonfinite and a non-finite norm, "
      "nothing is written and applied is False.");
  m.def(
      "clip_value_",
      [](const py::sequence& arrays, double clip_value) {
        std::vector<py::object> temps;
        Lists l = collect(arrays, true, temps);
        py::gil_scoped_release release;
        gd::clamp(l.f32.data(), l.f32.size(), clip_value);
        gd::clamp(l.f64.data(), l.f64.size(), clip_value);
      },
      py::arg("arrays"), py::arg("clip_value"));
  m.def(
      "axpy_",
      [](py::object a, py::object b, double alpha) {
        ArrayView av = view_inplace_array(a.ptr(), Name{"a"});
        ArrayView bv = view_float_array(b.ptr(), Name{"b"});
        if (av.dtype != bv.dtype || av.size != bv.size || !bv.c_contiguous || !bv.aligned)
          throw py::value_error("a and b must have the same dtype and size, b contiguous");
        const std::int64_t bytes = av.size * (av.dtype == DType::f32 ? 4 : 8);
        const char *pa = static_cast<const char*>(av.data), *pb = static_cast<const char*>(bv.data);
        if (bytes > 0 && pa < pb + bytes && pb < pa + bytes && pa != pb)
          throw py::value_error("a and b must not partly overlap");
        py::gil_scoped_release release;
        if (av.dtype == DType::f32)
          gd::axpy(static_cast<float*>(av.data), static_cast<const float*>(bv.data), av.size, alpha);
        else
          gd::axpy(static_cast<double*>(av.data), static_cast<const double*>(bv.data), av.size, alpha);
      },
      py::arg("a"), py::arg("b"), py::arg("alpha"),
      "a += alpha * b in place (the streaming kernel behind the roofline).");
}

}  // namespace gd::python

