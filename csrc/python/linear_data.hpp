// The data of the linear-model bindings: dense or CSR rows with their
// targets and optional sample weights, validated, in the rows' dtype.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>

#include "buffers.hpp"
#include "gdcore/linear.hpp"

namespace gd::python {
namespace py = pybind11;

/// A C-contiguous 2-D float32/float64 X.
inline ArrayView matrix(const py::handle& X) {
  ArrayView v = view_float_array(X.ptr(), Name{"X"});
  if (v.ndim != 2) throw py::value_error("X must be 2-D");
  if (!v.c_contiguous || !v.aligned) throw py::value_error("X must be C-contiguous");
  return v;
}

/// y and, unless None, sample_weight, in dtype dt: one entry per row, or
/// `entries` of them when that is >= 0 (targets in a pass's order).
template <class T, class Data>
void set_targets(Data& data, const py::handle& y, const py::handle& sample_weight, DType dt,
                 std::int64_t entries = -1) {
  const std::int64_t len = entries >= 0 ? entries : data.n;
  data.y = static_cast<const T*>(view_vector(y, "y", len, dt, false).data);
  if (!sample_weight.is_none())
    data.sample_weight =
        static_cast<const T*>(view_vector(sample_weight, "sample_weight", len, dt, false).data);
}

/// The rows of X (from matrix()) with their targets (see set_targets).
template <class T>
DenseData<T> dense_data(const ArrayView& xv, const py::handle& y, const py::handle& sample_weight,
                        std::int64_t entries = -1) {
  DenseData<T> data;
  data.X = static_cast<const T*>(xv.data);
  data.n = xv.shape[0];
  data.d = xv.shape[1];
  set_targets<T>(data, y, sample_weight, xv.dtype, entries);
  return data;
}

/// The rows of a CSR matrix (from view_csr()), without targets.
template <class T, class I>
CsrData<T, I> csr_rows(const CsrView& cv, std::int64_t n_features, bool check = true) {
  CsrData<T, I> data;
  data.structure_checked = !check;
  data.data = static_cast<const T*>(cv.values.data);
  data.indices = static_cast<const I*>(cv.indices);
  data.indptr = static_cast<const I*>(cv.indptr);
  data.n = cv.rows;
  data.d = n_features;
  return data;
}

/// The rows of a CSR matrix (from view_csr()) with their targets (see
/// set_targets).
template <class T, class I>
CsrData<T, I> csr_data(const CsrView& cv, std::int64_t n_features, const py::handle& y,
                       const py::handle& sample_weight, bool check = true,
                       std::int64_t entries = -1) {
  CsrData<T, I> data = csr_rows<T, I>(cv, n_features, check);
  set_targets<T>(data, y, sample_weight, cv.values.dtype, entries);
  return data;
}

}  // namespace gd::python
