// gdcore public C++ API: gradient clipping and norms.
//
// Norms are reduced in fixed blocks of kNormBlock elements; each block keeps
// 16 partial sums (element i goes to partial i mod 16) in double precision,
// combined pairwise in a fixed order, and the block results are combined in
// index order.  The result is therefore bitwise identical on every ISA path
// and for every thread count.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gd {

inline constexpr std::int64_t kNormBlock = 4096;

template <class T>
struct Span {
  T* data = nullptr;
  std::int64_t size = 0;
};

/// Total norm of all tensors together: ord = 1, 2 or +inf (any other value
/// throws std::invalid_argument).  Returned in double precision.
double total_norm(const Span<const float>* tensors, std::size_t count, double ord);
double total_norm(const Span<const double>* tensors, std::size_t count, double ord);

/// x *= factor (factor rounded to the tensor dtype), for every tensor.
void scale(const Span<float>* tensors, std::size_t count, double factor);
void scale(const Span<double>* tensors, std::size_t count, double factor);

/// x = min(max(x, -clip_value), clip_value) for every tensor (NaN stays NaN);
/// std::invalid_argument for a negative or NaN clip_value, before writing.
void clamp(const Span<float>* tensors, std::size_t count, double clip_value);
void clamp(const Span<double>* tensors, std::size_t count, double clip_value);

/// a += alpha·b over n elements: the in-place streaming kernel that the
/// benchmarks use to measure the memory roofline.
void axpy(float* a, const float* b, std::int64_t n, double alpha);
void axpy(double* a, const double* b, std::int64_t n, double alpha);

}  // namespace gd
