// Internal to the runtime: the active kernel table and the chunked parallel
// driver shared by the optimizer and clipping entry points.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "kernel_table.hpp"

#ifdef GDCORE_OPENMP
#include <omp.h>
#endif

namespace gd::detail {

struct IsaInfo {
  const char* name;
  const KernelTable& (*table)();
  bool (*supported)();
};

/// ISA paths compiled in, lowest first.
const std::vector<IsaInfo>& compiled_isas();

/// CPU + OS support checks.
bool cpu_has_avx2_fma();
bool cpu_has_avx512();

/// The table kernels currently run on.
const KernelTable& active_table();

/// Threads to use for a job of `elements` element-updates (1 below a
/// threshold where a parallel region costs more than it saves).
int threads_for(std::int64_t elements);

/// A piece of one tensor: elements [begin, end) of tensor `index`.
struct Chunk {
  std::int64_t index, begin, end;
};


/// Run body(begin, end) over [0, count) on `nt` threads, thread t taking the
/// t-th contiguous share (one call on the calling thread when nt <= 1).
template <class Body>
void for_each_range_share(std::int64_t count, int nt, Body&& body) {
  if (nt <= 1) {
    body(std::int64_t(0), count);
    return;
  }
#ifdef GDCORE_OPENMP
#pragma omp parallel num_threads(nt)
  {
    const std::int64_t t = omp_get_thread_num(), n = omp_get_num_threads();
    body(count * t / n, count * (t + 1) / n);
  }
#else
  body(std::int64_t(0), count);
#endif
}

/// Run body(tensor_index, begin, end) over every element of the tensors of
/// the given sizes, on `nt` threads: thread t takes the t-th equal share of
/// the concatenated index space (cut at multiples of 64 elements), so the
/// work is balanced whatever the tensor sizes.  Elementwise kernels give the
/// same bits whatever the split.
template <class Body>
void for_each_share(const std::int64_t* offsets /* count + 1 prefix sums */, std::size_t count,
                    int nt, Body&& body);

/// Split tensors of the given sizes into chunks of at most `chunk` elements.
void make_chunks(const std::int64_t* sizes, std::size_t count, std::int64_t chunk,
                 std::vector<Chunk>& out, std::int64_t& total);

template <class Body>
void share_range(const std::int64_t* offsets, std::size_t count, std::int64_t lo, std::int64_t hi,
                 Body& body) {
  if (lo >= hi) return;
  // First tensor whose range ends after lo (binary search over prefix sums).
  std::size_t a = 0, b = count;
  while (a < b) {
    const std::size_t mid = (a + b) / 2;
    if (offsets[mid + 1] <= lo)
      a = mid + 1;
    else
      b = mid;
  }
  for (std::size_t t = a; t < count && offsets[t] < hi; ++t) {
    const std::int64_t begin = std::max(lo, offsets[t]) - offsets[t];
    const std::int64_t end = std::min(hi, offsets[t + 1]) - offsets[t];
    if (begin < end) body(t, begin, end);
  }
}

template <class Body>
void for_each_share(const std::int64_t* offsets, std::size_t count, int nt, Body&& body) {
  const std::int64_t total = offsets[count];
  if (nt <= 1 || total == 0) {
    share_range(offsets, count, 0, total, body);
    return;
  }
#ifdef GDCORE_OPENMP
#pragma omp parallel num_threads(nt)
  {
    const std::int64_t t = omp_get_thread_num(), n = omp_get_num_threads();
    auto cut = [&](std::int64_t k) {
      if (k >= n) return total;
      return std::min(total, (total * k / n) & ~std::int64_t(63));
    };
    share_range(offsets, count, cut(t), cut(t + 1), body);
  }
#else
  share_range(offsets, count, 0, total, body);
#endif
}

}  // namespace gd::detail
