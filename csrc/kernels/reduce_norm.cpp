// Norm of one block — the building block of total_norm / clip_grad_norm_.
//
//   ord 2: Σ x²   ord 1: Σ |x|   ord 0 (inf): max |x|   over n <= 4096 elements
//
// Sums are taken in double with 16 partial accumulators (element i goes to
// partial i mod 16, whatever the vector width), combined pairwise in a fixed
// order: identical bits on every ISA path.  The runtime combines blocks in
// index order, so the total is also independent of the thread count.
// Bytes per element: one read of sizeof(T).
#include "kernel_common.hpp"

namespace gd::GDCORE_ISA {
namespace {

constexpr int kLanes = 16;

inline double combine_sum(double* acc) {
  for (int w = kLanes / 2; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] = acc[j] + acc[j + w];
  return acc[0];
}

template <class T>
double sumsq_block(const T* GDCORE_RESTRICT x, int64_t n) {
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) {
      const double v = double(x[i + j]);
      acc[j] = acc[j] + v * v;
    }
  for (int j = 0; i + j < n; ++j) {
    const double v = double(x[i + j]);
    acc[j] = acc[j] + v * v;
  }
  return combine_sum(acc);
}

template <class T>
double sumabs_block(const T* GDCORE_RESTRICT x, int64_t n) {
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] = acc[j] + abs_(double(x[i + j]));
  for (int j = 0; i + j < n; ++j) acc[j] = acc[j] + abs_(double(x[i + j]));
  return combine_sum(acc);
}

template <class T>
double maxabs_block(const T* GDCORE_RESTRICT x, int64_t n) {
  T acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] = max_nan(acc[j], abs_(x[i + j]));
  for (int j = 0; i + j < n; ++j) acc[j] = max_nan(acc[j], abs_(x[i + j]));
  for (int w = kLanes / 2; w >= 1; w /= 2)
    for (int j = 0; j < w; ++j) acc[j] = max_nan(acc[j], acc[j + w]);
  return double(acc[0]);
}

template <class T>
double norm_block(const T* x, int64_t n, int ord) {
  if (ord == 2) return sumsq_block(x, n);
  if (ord == 1) return sumabs_block(x, n);
  return maxabs_block(x, n);
}

}  // namespace

double norm_block_f32(const float* x, int64_t n, int ord) { return norm_block(x, n, ord); }
double norm_block_f64(const double* x, int64_t n, int ord) { return norm_block(x, n, ord); }

}  // namespace gd::GDCORE_ISA
