// Cheap, complete validation of numpy arrays before any kernel runs.
//
// Reads the array header directly (no buffer protocol request), so checking
// a list of arrays costs tens of nanoseconds per array.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

namespace gd::python {
namespace py = pybind11;

enum class DType { f32, f64 };

inline const char* dtype_name(DType d) { return d == DType::f32 ? "float32" : "float64"; }

struct ArrayView {
  PyObject* obj = nullptr;
  void* data = nullptr;
  std::int64_t size = 0;
  int ndim = 0;
  const Py_ssize_t* shape = nullptr;
  DType dtype = DType::f32;
  bool c_contiguous = false;
  bool aligned = false;
  bool writeable = false;
};

inline bool is_ndarray(PyObject* o) { return py::detail::npy_api::get().PyArray_Check_(o); }

inline std::string describe(PyObject* o) { return Py_TYPE(o)->tp_name; }

/// Names an array in error messages, built only when an error is raised.
struct Name {
  const char* what;
  long index = -1;
  std::string str() const {
    return index < 0 ? std::string(what) : std::string(what) + " " + std::to_string(index);
  }
};

/// A view of a float32/float64 ndarray in native byte order; TypeError
/// (naming `what`) for anything else.
inline ArrayView view_float_array(PyObject* o, const Name& name) {
  if (!is_ndarray(o))
    throw py::type_error(name.str() + " must be a numpy.ndarray of float32 or float64, got " +
                         describe(o));
  auto* a = py::detail::array_proxy(o);
  auto* d = py::detail::array_descriptor_proxy(a->descr);
  ArrayView v;
  v.obj = o;
  if (d->type_num == py::detail::npy_api::NPY_FLOAT_)
    v.dtype = DType::f32;
  else if (d->type_num == py::detail::npy_api::NPY_DOUBLE_)
    v.dtype = DType::f64;
  else
    throw py::type_error(name.str() + " must have dtype float32 or float64, got dtype " +
                         std::string(py::str(py::handle(a->descr))));
  if (d->byteorder == '>')
    throw py::type_error(name.str() + " must be in native byte order");
  v.data = a->data;
  v.ndim = a->nd;
  v.shape = a->dimensions;
  std::int64_t n = 1;
  for (int k = 0; k < a->nd; ++k) n *= std::int64_t(a->dimensions[k]);
  v.size = n;
  v.c_contiguous = (a->flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_) != 0;
  v.aligned = (a->flags & py::detail::npy_api::NPY_ARRAY_ALIGNED_) != 0;
  v.writeable = (a->flags & py::detail::npy_api::NPY_ARRAY_WRITEABLE_) != 0;
  return v;
}

/// A writeable, aligned, C-contiguous float array (parameters, state, and
/// gradients that are clipped in place); ValueError naming `what` otherwise.
inline ArrayView view_inplace_array(PyObject* o, const Name& name) {
  ArrayView v = view_float_array(o, name);
  if (!v.writeable) throw py::value_error(name.str() + " is read-only; it must be writeable");
  if (!v.c_contiguous || !v.aligned)
    throw py::value_error(name.str() + " must be C-contiguous and aligned (use numpy.ascontiguousarray)");
  return v;
}

inline std::string shape_str(const ArrayView& v) {
  std::string s = "(";
  for (int k = 0; k < v.ndim; ++k) {
    s += std::to_string(v.shape[k]);
    if (v.ndim == 1 || k + 1 < v.ndim) s += k + 1 < v.ndim ? ", " : ",";
  }
  return s + ")";
}

inline bool same_shape(const ArrayView& a, const ArrayView& b) {
  if (a.ndim != b.ndim) return false;
  for (int k = 0; k < a.ndim; ++k)
    if (a.shape[k] != b.shape[k]) return false;
  return true;
}

/// A contiguous 1-D array of n elements of dtype dt (writeable when asked);
/// ValueError naming `what` otherwise.
inline ArrayView view_vector(const py::handle& a, const char* what, std::int64_t n, DType dt,
                             bool writeable) {
  ArrayView v = writeable ? view_inplace_array(a.ptr(), Name{what})
                          : view_float_array(a.ptr(), Name{what});
  if (v.ndim != 1 || v.size != n)
    throw py::value_error(std::string(what) + " must be 1-D with " + std::to_string(n) +
                          " elements, got shape " + shape_str(v));
  if (v.dtype != dt)
    throw py::value_error(std::string(what) + " must have dtype " + dtype_name(dt));
  if (!v.c_contiguous || !v.aligned)
    throw py::value_error(std::string(what) + " must be contiguous");
  return v;
}

/// The arrays of a CSR matrix: contiguous float values, int64 indices of the
/// same length and n + 1 row pointers ending at nnz.  Returns the values;
/// `rows` receives n.  (Index ranges are checked by the C++ API.)
inline ArrayView view_csr(const py::handle& values,
                          const py::array_t<std::int64_t, py::array::c_style>& indices,
                          const py::array_t<std::int64_t, py::array::c_style>& indptr,
                          std::int64_t n_features, std::int64_t& rows) {
  ArrayView dv = view_float_array(values.ptr(), Name{"data"});
  if (dv.ndim != 1 || !dv.c_contiguous || !dv.aligned)
    throw py::value_error("CSR data must be a contiguous 1-D array");
  if (indptr.ndim() != 1 || indptr.shape(0) < 1) throw py::value_error("bad indptr");
  if (indices.ndim() != 1 || indices.shape(0) != dv.size)
    throw py::value_error("CSR indices and data differ in length");
  rows = indptr.shape(0) - 1;
  if (indptr.data()[rows] != dv.size) throw py::value_error("indptr[-1] must equal nnz");
  if (n_features < 0) throw py::value_error("n_features must be >= 0");
  return dv;
}

}  // namespace gd::python
