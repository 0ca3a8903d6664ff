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
  int state = -1;  // (>= 0: "<what> <index> state buffer <state>")
  std::string str() const {
    std::string s = index < 0 ? std::string(what) : std::string(what) + " " + std::to_string(index);
    return state < 0 ? s : s + " state buffer " + std::to_string(state);
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

/// Whether an ndarray's dtype is Elem's in native byte order (numpy's
/// equivalence: a dtype object need not be numpy's own instance, e.g. an
/// unpickled or memory-mapped array's).
template <class Elem>
bool has_dtype(PyObject* ndarray) {
  return py::detail::npy_api::get().PyArray_EquivTypes_(py::detail::array_proxy(ndarray)->descr,
                                                         py::dtype::of<Elem>().ptr());
}

/// An in/out array of exactly n elements of Elem (int64 or float64): an
/// ndarray of that dtype in native byte order, 1-D, writeable, C-contiguous
/// and aligned.  (A converted copy would take the call's writes and drop
/// them.)  TypeError for another type or dtype, ValueError otherwise.
template <class Elem>
Elem* view_inout(const py::handle& a, const char* what, std::int64_t n) {
  const py::dtype want = py::dtype::of<Elem>();
  if (!is_ndarray(a.ptr()))
    throw py::type_error(std::string(what) + " must be a numpy.ndarray of " +
                         std::string(py::str(want)) + ", got " + describe(a.ptr()));
  auto* arr = py::detail::array_proxy(a.ptr());
  if (!has_dtype<Elem>(a.ptr()))
    throw py::type_error(std::string(what) + " must have dtype " + std::string(py::str(want)) +
                         " (native byte order), got dtype " +
                         std::string(py::str(py::handle(arr->descr))));
  const int flags = arr->flags;
  if (arr->nd != 1 || arr->dimensions[0] != n)
    throw py::value_error(std::string(what) + " must be 1-D with " + std::to_string(n) +
                          " elements");
  if (!(flags & py::detail::npy_api::NPY_ARRAY_WRITEABLE_))
    throw py::value_error(std::string(what) + " is read-only; it must be writeable");
  if (!(flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_) ||
      !(flags & py::detail::npy_api::NPY_ARRAY_ALIGNED_))
    throw py::value_error(std::string(what) + " must be contiguous");
  return reinterpret_cast<Elem*>(arr->data);
}

/// A CSR matrix's arrays: float values, and column indices and row pointers
/// of one integer type, int32 (scipy's usual) or int64.
struct CsrView {
  ArrayView values;
  const void* indices = nullptr;
  const void* indptr = nullptr;
  bool int32 = false;
  std::int64_t rows = 0;
};

/// build(T{}, I{}) for the CSR arrays' value type T (float or double) and
/// index type I (int32 or int64).
template <class Build>
auto dispatch_csr(const CsrView& cv, Build&& build) {
  const bool f32 = cv.values.dtype == DType::f32;
  if (cv.int32) return f32 ? build(float{}, std::int32_t{}) : build(double{}, std::int32_t{});
  return f32 ? build(float{}, std::int64_t{}) : build(double{}, std::int64_t{});
}

/// The arrays of a CSR matrix: contiguous float values, contiguous column
/// indices of the same length and n + 1 row pointers ending at nnz, both
/// int32 or both int64; `rows` is n.  (Index ranges are checked by the C++
/// API.)
inline CsrView view_csr(const py::handle& values, const py::handle& indices,
                        const py::handle& indptr, std::int64_t n_features) {
  CsrView v;
  v.values = view_float_array(values.ptr(), Name{"data"});
  if (v.values.ndim != 1 || !v.values.c_contiguous || !v.values.aligned)
    throw py::value_error("CSR data must be a contiguous 1-D array");
  auto int_kind = [](const py::handle& h, const char* what) {
    if (!is_ndarray(h.ptr()))
      throw py::type_error(std::string("CSR ") + what + " must be a numpy.ndarray, got " +
                           describe(h.ptr()));
    auto* a = py::detail::array_proxy(h.ptr());
    const auto* descr = py::detail::array_descriptor_proxy(a->descr);
    const bool contiguous = (a->flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_) != 0;
    const bool aligned = (a->flags & py::detail::npy_api::NPY_ARRAY_ALIGNED_) != 0;
    if (a->nd != 1 || !contiguous || !aligned)
      throw py::value_error(std::string("CSR ") + what + " must be a contiguous 1-D array");
    if (descr->byteorder == '>')
      throw py::type_error(std::string("CSR ") + what + " must be in native byte order");
    if (descr->type_num == py::detail::npy_format_descriptor<std::int32_t>::value) return 32;
    if (descr->type_num == py::detail::npy_format_descriptor<std::int64_t>::value) return 64;
    throw py::type_error(std::string("CSR ") + what + " must have dtype int32 or int64");
  };
  const int ki = int_kind(indices, "indices"), kp = int_kind(indptr, "indptr");
  if (ki != kp) throw py::type_error("CSR indices and indptr must have the same dtype");
  v.int32 = ki == 32;
  auto* ia = py::detail::array_proxy(indices.ptr());
  auto* pa = py::detail::array_proxy(indptr.ptr());
  v.indices = ia->data;
  v.indptr = pa->data;
  const std::int64_t n_idx = ia->dimensions[0], n_ptr = pa->dimensions[0];
  if (n_ptr < 1) throw py::value_error("bad indptr");
  if (n_idx != v.values.size) throw py::value_error("CSR indices and data differ in length");
  v.rows = n_ptr - 1;
  const std::int64_t last = v.int32 ? std::int64_t(static_cast<const std::int32_t*>(v.indptr)[v.rows])
                                    : static_cast<const std::int64_t*>(v.indptr)[v.rows];
  if (last != v.values.size) throw py::value_error("indptr[-1] must equal nnz");
  if (n_features < 0) throw py::value_error("n_features must be >= 0");
  return v;
}

}  // namespace gd::python
