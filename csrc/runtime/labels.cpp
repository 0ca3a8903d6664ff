// Integer class labels of the linear classifiers' fits: one pass each for
// what numpy takes several for (see gdcore/linear.hpp).
#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "gdcore/linear.hpp"
#include "internal.hpp"
#include "rows.hpp"

#ifdef GDCORE_OPENMP
#include <omp.h>
#endif

namespace gd {
namespace {

template <class I>
LabelSummary summary_impl(const I* y, std::int64_t n) {
  if (n < 0 || (n > 0 && y == nullptr)) throw std::invalid_argument("bad labels");
  LabelSummary s;
  if (n == 0) return s;
  const I first = y[0];
  I lo = first, hi = first;
  std::int64_t same = 1, changes = 0;
  const int nt = detail::threads_for(n / 4);
  // (branch-free: labels in a random order would mispredict a branch)
#ifdef GDCORE_OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1) \
    reduction(min : lo) reduction(max : hi) reduction(+ : same, changes)
#endif
  for (std::int64_t i = 1; i < n; ++i) {
    const I v = y[i];
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    same += v == first;
    changes += v != y[i - 1];
  }
  s.lo = std::int64_t(lo);
  s.hi = std::int64_t(hi);
  s.first = std::int64_t(first);
  s.same_as_first = same;
  s.changes = changes;
  return s;
}

template <class I, class T>
void signed_impl(const I* y, std::int64_t n, std::int64_t positive, T* out) {
  if (n < 0 || (n > 0 && (y == nullptr || out == nullptr)))
    throw std::invalid_argument("bad labels or output");
  detail::check_disjoint({detail::span_of(out, n, "out")}, {detail::span_of(y, n, "y")});
  const int nt = detail::threads_for(n / 4);
  // (a table lookup, not a branch: labels in a random order mispredict)
  const T value[2] = {T(-1), T(1)};
#ifdef GDCORE_OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
#endif
  for (std::int64_t i = 0; i < n; ++i) out[i] = value[std::int64_t(y[i]) == positive];
}

}  // namespace

LabelSummary label_summary(const std::int64_t* y, std::int64_t n) { return summary_impl(y, n); }
LabelSummary label_summary(const std::int32_t* y, std::int64_t n) { return summary_impl(y, n); }

void signed_targets(const std::int64_t* y, std::int64_t n, std::int64_t positive, float* out) {
  signed_impl(y, n, positive, out);
}
void signed_targets(const std::int64_t* y, std::int64_t n, std::int64_t positive, double* out) {
  signed_impl(y, n, positive, out);
}
void signed_targets(const std::int32_t* y, std::int64_t n, std::int64_t positive, float* out) {
  signed_impl(y, n, positive, out);
}
void signed_targets(const std::int32_t* y, std::int64_t n, std::int64_t positive, double* out) {
  signed_impl(y, n, positive, out);
}

}  // namespace gd
