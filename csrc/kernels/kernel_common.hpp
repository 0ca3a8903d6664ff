// Internal helpers for kernel sources.  Everything here has internal linkage
// inside namespace gd::<GDCORE_ISA>, so a helper compiled with AVX-512 flags
// can never be chosen by the linker for the scalar path.
#pragma once

#ifndef GDCORE_ISA
#error "kernel sources are compiled once per ISA with -DGDCORE_ISA=<name>"
#endif

#include <cstdint>

#include "kernel_table.hpp"

#if defined(__GNUC__) || defined(__clang__)
#define GDCORE_RESTRICT __restrict__
#define GDCORE_IVDEP _Pragma("GCC ivdep")
#else
#define GDCORE_RESTRICT __restrict
#define GDCORE_IVDEP
#endif

namespace gd::GDCORE_ISA {
namespace {

using std::int64_t;

inline float sqrt_(float x) { return __builtin_sqrtf(x); }
inline double sqrt_(double x) { return __builtin_sqrt(x); }

// torch's lerp: a + w·(b − a) when |w| < 0.5, else b − (b − a)·(1 − w).
template <bool SmallWeight, class T>
inline T lerp(T a, T b, T w, T one_minus_w) {
  if constexpr (SmallWeight) {
    return a + w * (b - a);
  } else {
    return b - (b - a) * one_minus_w;
  }
}

// Which lerp branch torch takes for weight w: |w| < 0.5.
template <class T>
inline bool small_weight(T w) {
  return w < T(0.5) && w > T(-0.5);
}

// torch.maximum: NaN in either argument gives NaN.
template <class T>
inline T max_nan(T a, T b) {
  return (a > b || a != a) ? a : b;
}

inline float abs_(float x) { return __builtin_fabsf(x); }
inline double abs_(double x) { return __builtin_fabs(x); }

}  // namespace
}  // namespace gd::GDCORE_ISA
