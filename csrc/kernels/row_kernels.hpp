// Internal: the row kernels' element definitions for kernel sources — dot
// with its fixed-order partials (generic, and in AVX2 registers), axpy,
// axpy_dot — shared by linalg.cpp (which exports them and states their
// contract) and the fused loops compiled per ISA (minibatch_block.cpp).
// Internal linkage inside namespace gd::<GDCORE_ISA>, like kernel_common.hpp.
#pragma once

#include "kernel_common.hpp"

#if defined(__AVX2__)
#include <immintrin.h>

#include <type_traits>
#endif

namespace gd::GDCORE_ISA {
namespace {

// a ← a + α·b (multiply then add, never fused)
template <class T>
void axpy_impl(T* GDCORE_RESTRICT a, const T* GDCORE_RESTRICT b, int64_t n, T alpha) {
  GDCORE_IVDEP
  for (int64_t i = 0; i < n; ++i) a[i] = a[i] + alpha * b[i];
}

// A dot product's partial sums: as many as four 256-bit registers hold, 32
// floats or 16 doubles (four independent chains of vector adds per row).
template <class T>
constexpr int kPartials = sizeof(T) == 4 ? 32 : 16;

// The partials, combined pairwise: p[j] += p[j + h] for h = P/2, ..., 2, 1.
// (Constant indices throughout keep the partials in registers.)
template <class T>
T combine_partials(T* acc) {
  if constexpr (kPartials<T> == 32) {
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) acc[j] = acc[j] + acc[j + 16];
  }
#pragma GCC unroll 8
  for (int j = 0; j < 8; ++j) acc[j] = acc[j] + acc[j + 8];
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) acc[j] = acc[j] + acc[j + 4];
  acc[0] = acc[0] + acc[2];
  acc[1] = acc[1] + acc[3];
  return acc[0] + acc[1];
}

// Σ term(i) for i < n: term i goes to partial i mod P (whatever the vector
// width), the partials combined by combine_partials.  The tail adds +0 to
// the unused partials (no partial is ever -0: they start at +0), so the
// bits are those of skipping them.
template <class T, class Term>
T sum_partials(int64_t n, Term term) {
  constexpr int kLanes = kPartials<T>;
  T acc[kLanes];
#pragma GCC unroll 32
  for (int j = 0; j < kLanes; ++j) acc[j] = T(0);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
#pragma GCC unroll 32
    for (int j = 0; j < kLanes; ++j) acc[j] = acc[j] + term(i + j);
  const int64_t rest = n - i;
#pragma GCC unroll 32
  for (int j = 0; j < kLanes; ++j) {
    const T p = j < rest ? term(i + j) : T(0);
    acc[j] = acc[j] + p;
  }
  return combine_partials(acc);
}

template <class T>
T dot_generic(const T* GDCORE_RESTRICT x, const T* GDCORE_RESTRICT w, int64_t n) {
  return sum_partials<T>(n, [x, w](int64_t k) { return x[k] * w[k]; });
}

template <class T>
T axpy_dot_generic(T* GDCORE_RESTRICT w, const T* GDCORE_RESTRICT x, T a,
                   const T* GDCORE_RESTRICT xn, int64_t n) {
  return sum_partials<T>(n, [w, x, a, xn](int64_t k) {
    const T wj = w[k] + a * x[k];
    w[k] = wj;
    return xn[k] * wj;
  });
}

#if defined(__AVX2__)
// The same partials in four AVX2 registers (partial j in register j / L,
// lane j % L), the same pairwise combination, and the tail read with
// masked loads: its missing lanes add +0, so the bits are the generic
// code's.  (Left to the compiler, the tail's per-lane conditions spill the
// partials to scalars: that epilogue cost more than the main loop for rows
// of 100 floats.)
template <class T>
struct Avx2 {
  static constexpr bool kF32 = sizeof(T) == 4;
  using V = std::conditional_t<kF32, __m256, __m256d>;
  static constexpr int L = 32 / int(sizeof(T));
  static V zero() {
    if constexpr (kF32) return _mm256_setzero_ps(); else return _mm256_setzero_pd();
  }
  static V set1(T a) {
    if constexpr (kF32) return _mm256_set1_ps(a); else return _mm256_set1_pd(a);
  }
  static V add(V a, V b) {
    if constexpr (kF32) return _mm256_add_ps(a, b); else return _mm256_add_pd(a, b);
  }
  static V mul(V a, V b) {
    if constexpr (kF32) return _mm256_mul_ps(a, b); else return _mm256_mul_pd(a, b);
  }
  static V load(const T* p) {
    if constexpr (kF32) return _mm256_loadu_ps(p); else return _mm256_loadu_pd(p);
  }
  static void store(T* p, V v) {
    if constexpr (kF32) _mm256_storeu_ps(p, v); else _mm256_storeu_pd(p, v);
  }
  // the lanes < c (all bits set) of a register
  static __m256i mask(int64_t c) {
    if constexpr (kF32)
      return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(c)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    else
      return _mm256_cmpgt_epi64(_mm256_set1_epi64x(c), _mm256_setr_epi64x(0, 1, 2, 3));
  }
  static V load(const T* p, __m256i m) {  // 0 in the other lanes, which are not read
    if constexpr (kF32) return _mm256_maskload_ps(p, m); else return _mm256_maskload_pd(p, m);
  }
  static void store(T* p, __m256i m, V v) {
    if constexpr (kF32) _mm256_maskstore_ps(p, m, v); else _mm256_maskstore_pd(p, m, v);
  }
  static V keep(V v, __m256i m) {  // +0 outside m
    if constexpr (kF32) return _mm256_and_ps(v, _mm256_castsi256_ps(m));
    else return _mm256_and_pd(v, _mm256_castsi256_pd(m));
  }
  // combine_partials on the four registers r (lanes 0..L-1, L..2L-1, ...)
  static T combine(const V* r) {
    if constexpr (kF32) {
      // p[j] + p[j + 16], then p[j] + p[j + 8]
      const V a = _mm256_add_ps(_mm256_add_ps(r[0], r[2]), _mm256_add_ps(r[1], r[3]));
      const __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
      const __m128 c = _mm_add_ps(b, _mm_movehl_ps(b, b));
      return _mm_cvtss_f32(_mm_add_ss(c, _mm_shuffle_ps(c, c, 1)));
    } else {
      const V b = _mm256_add_pd(_mm256_add_pd(r[0], r[2]), _mm256_add_pd(r[1], r[3]));
      const __m128d c = _mm_add_pd(_mm256_castpd256_pd128(b), _mm256_extractf128_pd(b, 1));
      return _mm_cvtsd_f64(_mm_add_sd(c, _mm_unpackhi_pd(c, c)));
    }
  }
};

// Σ over the partials of step(q, at, m): the term vector of register q for
// elements at .. at + L (m: the lanes that exist, or null for all).
template <class T, class Step>
T sum_partials_avx2(int64_t n, Step step) {
  using A = Avx2<T>;
  using V = typename A::V;
  constexpr int P = kPartials<T>, Q = P / A::L;
  static_assert(Q == 4, "four registers of partials");
  V r[Q];
#pragma GCC unroll 4
  for (int q = 0; q < Q; ++q) r[q] = A::zero();
  int64_t i = 0;
  for (; i + P <= n; i += P)
#pragma GCC unroll 4
    for (int q = 0; q < Q; ++q) r[q] = A::add(r[q], step(i + q * A::L, nullptr));
  const int64_t rest = n - i;
#pragma GCC unroll 4
  for (int q = 0; q < Q; ++q) {
    const int64_t c = rest - q * A::L;
    if (c >= A::L) {
      r[q] = A::add(r[q], step(i + q * A::L, nullptr));
    } else if (c > 0) {
      const __m256i m = A::mask(c);
      r[q] = A::add(r[q], step(i + q * A::L, &m));
    }
  }
  return A::combine(r);
}

template <class T>
T dot_avx2(const T* GDCORE_RESTRICT x, const T* GDCORE_RESTRICT w, int64_t n) {
  using A = Avx2<T>;
  return sum_partials_avx2<T>(n, [x, w](int64_t at, const __m256i* m) {
    if (m == nullptr) return A::mul(A::load(x + at), A::load(w + at));
    return A::mul(A::load(x + at, *m), A::load(w + at, *m));  // 0·0 in the missing lanes
  });
}

template <class T>
T axpy_dot_avx2(T* GDCORE_RESTRICT w, const T* GDCORE_RESTRICT x, T a, const T* GDCORE_RESTRICT xn,
                int64_t n) {
  using A = Avx2<T>;
  const auto av = A::set1(a);
  return sum_partials_avx2<T>(n, [w, x, av, xn](int64_t at, const __m256i* m) {
    if (m == nullptr) {
      const auto wj = A::add(A::load(w + at), A::mul(av, A::load(x + at)));
      A::store(w + at, wj);
      return A::mul(A::load(xn + at), wj);
    }
    const auto wj = A::add(A::load(w + at, *m), A::mul(av, A::load(x + at, *m)));
    A::store(w + at, *m, wj);
    return A::keep(A::mul(A::load(xn + at, *m), wj), *m);  // +0 in the missing lanes, whatever a is
  });
}
#endif

// This path's implementation.
template <class T>
T dot_impl(const T* x, const T* w, int64_t n) {
#if defined(__AVX2__)
  return dot_avx2(x, w, n);
#else
  return dot_generic(x, w, n);
#endif
}
template <class T>
T axpy_dot_impl(T* w, const T* x, T a, const T* xn, int64_t n) {
#if defined(__AVX2__)
  return axpy_dot_avx2(w, x, a, xn, n);
#else
  return axpy_dot_generic(w, x, a, xn, n);
#endif
}

}  // namespace
}  // namespace gd::GDCORE_ISA
