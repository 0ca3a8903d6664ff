// Norms, clipping and the streaming axpy: fixed blocks, fixed combination
// order, so results do not depend on the ISA path or the thread count.
#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "gdcore/clip.hpp"
#include "gdcore/runtime.hpp"
#include "internal.hpp"

namespace gd {
namespace {
using detail::Chunk;

template <class T>
void chunks_of(const Span<T>* ts, std::size_t count, std::int64_t chunk, std::vector<Chunk>& out,
               std::int64_t& total) {
  if (count > 0 && ts == nullptr) throw std::invalid_argument("tensor list is null");
  thread_local std::vector<std::int64_t> sizes;
  sizes.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (ts[i].size < 0) throw std::invalid_argument("negative tensor size");
    if (ts[i].size > 0 && ts[i].data == nullptr) throw std::invalid_argument("null tensor data");
    sizes[i] = ts[i].size;
  }
  detail::make_chunks(sizes.data(), count, chunk, out, total);
}

template <class T>
double total_norm_impl(const Span<const T>* ts, std::size_t count, double ord) {
  int kind;
  if (ord == 2.0)
    kind = 2;
  else if (ord == 1.0)
    kind = 1;
  else if (ord == std::numeric_limits<double>::infinity())
    kind = 0;
  else
    throw std::invalid_argument("norm_type must be 1, 2 or inf, got " + std::to_string(ord));
  thread_local std::vector<Chunk> blocks;
  std::int64_t total = 0;
  chunks_of(ts, count, kNormBlock, blocks, total);
  const auto& table = detail::active_table();
  const std::int64_t nb = std::int64_t(blocks.size());
  std::vector<double> partial(std::size_t(nb), 0.0);
  const Chunk* bs = blocks.data();
  auto one = [&](std::int64_t b) {
    const T* x = ts[bs[b].index].data + bs[b].begin;
    const std::int64_t n = bs[b].end - bs[b].begin;
    if constexpr (std::is_same_v<T, float>)
      partial[std::size_t(b)] = table.norm_block_f32(x, n, kind);
    else
      partial[std::size_t(b)] = table.norm_block_f64(x, n, kind);
  };
  const int nt = detail::threads_for(total / 4);
  if (nt <= 1) {
    for (std::int64_t b = 0; b < nb; ++b) one(b);
  } else {
#ifdef GDCORE_OPENMP
#pragma omp parallel for num_threads(nt) schedule(static)
#endif
    for (std::int64_t b = 0; b < nb; ++b) one(b);
  }
  // Fixed order: blocks in index order.
  if (kind == 0) {
    double m = 0.0;
    for (double p : partial)
      if (std::isnan(p) || p > m) m = std::isnan(m) ? m : p;
    return m;
  }
  double s = 0.0;
  for (double p : partial) s = s + p;
  return kind == 2 ? std::sqrt(s) : s;
}

template <class T, class F>
void for_chunks(const Span<T>* ts, std::size_t count, F&& f) {
  if (count > 0 && ts == nullptr) throw std::invalid_argument("tensor list is null");
  thread_local std::vector<std::int64_t> offsets;
  offsets.resize(count + 1);
  offsets[0] = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (ts[i].size < 0) throw std::invalid_argument("negative tensor size");
    if (ts[i].size > 0 && ts[i].data == nullptr) throw std::invalid_argument("null tensor data");
    offsets[i + 1] = offsets[i] + ts[i].size;
  }
  detail::for_each_share(offsets.data(), count, detail::threads_for(offsets[count]),
                         [&](std::size_t t, std::int64_t b, std::int64_t e) {
                           f(ts[t].data + b, e - b);
                         });
}

template <class T>
void scale_impl(const Span<T>* ts, std::size_t count, double factor) {
  const auto& table = detail::active_table();
  const T f = T(factor);
  for_chunks(ts, count, [&](T* x, std::int64_t n) {
    if constexpr (std::is_same_v<T, float>)
      table.scale_f32(x, n, f);
    else
      table.scale_f64(x, n, f);
  });
}

template <class T>
void clamp_impl(const Span<T>* ts, std::size_t count, double bound) {
  if (!(bound >= 0.0)) throw std::invalid_argument("clip_value must be >= 0 (and not NaN)");
  const auto& table = detail::active_table();
  const T b = T(bound);
  for_chunks(ts, count, [&](T* x, std::int64_t n) {
    if constexpr (std::is_same_v<T, float>)
      table.clamp_f32(x, n, b);
    else
      table.clamp_f64(x, n, b);
  });
}

template <class T>
void axpy_impl(T* a, const T* b, std::int64_t n, double alpha) {
  if (n < 0) throw std::invalid_argument("negative size");
  if (n > 0 && (a == nullptr || b == nullptr)) throw std::invalid_argument("null data");
  const auto& table = detail::active_table();
  const T al = T(alpha);
  Span<T> span{a, n};
  const std::ptrdiff_t off = b - a;
  for_chunks(&span, 1, [&](T* x, std::int64_t m) {
    if constexpr (std::is_same_v<T, float>)
      table.axpy_f32(x, x + off, m, al);
    else
      table.axpy_f64(x, x + off, m, al);
  });
}

}  // namespace

double total_norm(const Span<const float>* ts, std::size_t n, double ord) {
  return total_norm_impl(ts, n, ord);
}
double total_norm(const Span<const double>* ts, std::size_t n, double ord) {
  return total_norm_impl(ts, n, ord);
}
void scale(const Span<float>* ts, std::size_t n, double f) { scale_impl(ts, n, f); }
void scale(const Span<double>* ts, std::size_t n, double f) { scale_impl(ts, n, f); }
void clamp(const Span<float>* ts, std::size_t n, double b) { clamp_impl(ts, n, b); }
void clamp(const Span<double>* ts, std::size_t n, double b) { clamp_impl(ts, n, b); }
void axpy(float* a, const float* b, std::int64_t n, double alpha) { axpy_impl(a, b, n, alpha); }
void axpy(double* a, const double* b, std::int64_t n, double alpha) { axpy_impl(a, b, n, alpha); }

}  // namespace gd
