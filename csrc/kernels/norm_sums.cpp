// The running norms of scikit-learn's per-sample SGD (its WeightVector),
// for several rows of weights at once.
//
//   norm_sums(rows, stride, n, count, l2, l1): for each row q < count
//   (rows + q·stride, n values), l2[q] = Σ_j v_j² and l1[q] = Σ_j |v_j|,
//   v_j = double(row[j]), each sum added in index order j = 0, 1, …, n − 1
//   (scikit-learn's sequential sums, not fixed-order partials).
// dtypes: f32, f64 (both sum in double).  Guarantee: the same bits on every
// ISA path: a row's sums form one chain each, whatever the path; the AVX2
// path keeps four rows' chains in the lanes of one register (rows
// transposed four values at a time), eight rows in two, so the chains run
// side by side instead of one after the other.  No fused multiply-add.
// Bytes per element: sizeof(T) read (the rows are the caller's recent
// copies, in cache).
#include "kernel_common.hpp"

#include <cmath>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace gd::GDCORE_ISA {
namespace {

// One row's sums, from index `from` on, continuing (s2, s1).
template <class T>
void row_sums(const T* GDCORE_RESTRICT row, int64_t from, int64_t n, double& s2, double& s1) {
  for (int64_t j = from; j < n; ++j) {
    const double v = double(row[j]);
    s2 = s2 + v * v;
    s1 = s1 + std::fabs(v);
  }
}

#if defined(__AVX2__)
// Values j .. j+3 of four rows, as four registers of one value index each
// (lane q: row q).
inline void load4x4(const double* const* r, int64_t j, __m256d t[4]) {
  const __m256d r0 = _mm256_loadu_pd(r[0] + j), r1 = _mm256_loadu_pd(r[1] + j);
  const __m256d r2 = _mm256_loadu_pd(r[2] + j), r3 = _mm256_loadu_pd(r[3] + j);
  const __m256d a = _mm256_unpacklo_pd(r0, r1), b = _mm256_unpackhi_pd(r0, r1);
  const __m256d c = _mm256_unpacklo_pd(r2, r3), e = _mm256_unpackhi_pd(r2, r3);
  t[0] = _mm256_permute2f128_pd(a, c, 0x20);
  t[1] = _mm256_permute2f128_pd(b, e, 0x20);
  t[2] = _mm256_permute2f128_pd(a, c, 0x31);
  t[3] = _mm256_permute2f128_pd(b, e, 0x31);
}
inline void load4x4(const float* const* r, int64_t j, __m256d t[4]) {
  __m128 r0 = _mm_loadu_ps(r[0] + j), r1 = _mm_loadu_ps(r[1] + j);
  __m128 r2 = _mm_loadu_ps(r[2] + j), r3 = _mm_loadu_ps(r[3] + j);
  _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
  t[0] = _mm256_cvtps_pd(r0);
  t[1] = _mm256_cvtps_pd(r1);
  t[2] = _mm256_cvtps_pd(r2);
  t[3] = _mm256_cvtps_pd(r3);
}

// The sums of 4·R rows (rows + q·stride) side by side: lane q of register
// g holds row 4g + q's two chains, R registers of independent chains.
template <int R, class T>
void rows_side_by_side(const T* rows, int64_t stride, int64_t n, double* l2, double* l1) {
  const T* r[4 * R];
  for (int q = 0; q < 4 * R; ++q) r[q] = rows + q * stride;
  const __m256d sign = _mm256_set1_pd(-0.0);
  __m256d s2[R], s1[R];
  for (int g = 0; g < R; ++g) s2[g] = s1[g] = _mm256_setzero_pd();
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    for (int g = 0; g < R; ++g) {
      __m256d t[4];
      load4x4(r + 4 * g, j, t);
      for (int k = 0; k < 4; ++k) {
        s2[g] = _mm256_add_pd(s2[g], _mm256_mul_pd(t[k], t[k]));
        s1[g] = _mm256_add_pd(s1[g], _mm256_andnot_pd(sign, t[k]));
      }
    }
  }
  for (int g = 0; g < R; ++g) {
    _mm256_storeu_pd(l2 + 4 * g, s2[g]);
    _mm256_storeu_pd(l1 + 4 * g, s1[g]);
  }
  for (int q = 0; q < 4 * R; ++q) row_sums(r[q], j, n, l2[q], l1[q]);
}
#endif

template <class T>
void norm_sums_impl(const T* rows, int64_t stride, int64_t n, int count, double* l2, double* l1) {
  int q = 0;
#if defined(__AVX2__)
  for (; q + 8 <= count; q += 8) rows_side_by_side<2>(rows + q * stride, stride, n, l2 + q, l1 + q);
  for (; q + 4 <= count; q += 4) rows_side_by_side<1>(rows + q * stride, stride, n, l2 + q, l1 + q);
#endif
  for (; q < count; ++q) {
    l2[q] = 0.0;
    l1[q] = 0.0;
    row_sums(rows + q * stride, 0, n, l2[q], l1[q]);
  }
}

}  // namespace

void norm_sums_f32(const float* rows, int64_t stride, int64_t n, int count, double* l2,
                   double* l1) {
  norm_sums_impl(rows, stride, n, count, l2, l1);
}
void norm_sums_f64(const double* rows, int64_t stride, int64_t n, int count, double* l2,
                   double* l1) {
  norm_sums_impl(rows, stride, n, count, l2, l1);
}

}  // namespace gd::GDCORE_ISA
