// Internal: a data row (dense, or sparse with column indices) and the
// dot/axpy on it — dense rows use this ISA's fixed-order kernels.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "internal.hpp"

namespace gd::detail {

template <class T>
struct Row {
  const T* data;
  const std::int64_t* index;  // null: dense
  std::int64_t nnz;
};

template <class T>
struct RowKernels {
  const KernelTable& k;
  T dot(const Row<T>& x, const T* w) const {
    if (x.index == nullptr) {
      if constexpr (std::is_same_v<T, float>) return k.dot_f32(x.data, w, x.nnz);
      else return k.dot_f64(x.data, w, x.nnz);
    }
    T s = T(0);
    for (std::int64_t j = 0; j < x.nnz; ++j) s = s + x.data[j] * w[x.index[j]];
    return s;
  }
  // y += a·x
  void axpy(T* y, const Row<T>& x, T a) const {
    if (x.index == nullptr) {
      if constexpr (std::is_same_v<T, float>) k.axpy_f32(y, x.data, x.nnz, a);
      else k.axpy_f64(y, x.data, x.nnz, a);
      return;
    }
    for (std::int64_t j = 0; j < x.nnz; ++j) y[x.index[j]] = y[x.index[j]] + a * x.data[j];
  }
};

/// CSR structure: non-negative shape, targets present, monotone indptr
/// starting at 0, column indices in [0, d).
template <class Csr>
void check_csr(const Csr& data) {
  if (data.n < 0 || data.d < 0) throw std::invalid_argument("negative data shape");
  if (data.n > 0 && (data.y == nullptr || data.indptr == nullptr))
    throw std::invalid_argument("null data");
  if (data.n > 0 && data.indptr[0] != 0) throw std::invalid_argument("indptr[0] must be 0");
  for (std::int64_t i = 0; i < data.n; ++i)
    if (data.indptr[i + 1] < data.indptr[i]) throw std::invalid_argument("indptr must not decrease");
  const std::int64_t nnz = data.n > 0 ? data.indptr[data.n] : 0;
  for (std::int64_t j = 0; j < nnz; ++j)
    if (data.indices[j] < 0 || data.indices[j] >= data.d)
      throw std::invalid_argument("column index outside [0, n_features)");
}

/// Row indices of a pass: every order[i] in [0, n).
inline void check_order(const std::int64_t* order, std::int64_t count, std::int64_t n) {
  if (count < 0 || (count > 0 && order == nullptr)) throw std::invalid_argument("bad row order");
  for (std::int64_t i = 0; i < count; ++i)
    if (order[i] < 0 || order[i] >= n)
      throw std::invalid_argument("row index " + std::to_string(order[i]) + " outside [0, " +
                                  std::to_string(n) + ")");
}

}  // namespace gd::detail
