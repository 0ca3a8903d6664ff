// Internal: a data row (dense, or sparse with column indices) and the
// dot/axpy on it — dense rows use this ISA's fixed-order kernels.
#pragma once

#include <cstdint>
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

}  // namespace gd::detail
