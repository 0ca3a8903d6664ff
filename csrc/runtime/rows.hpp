// Internal: a data row (dense, or sparse with column indices) and the
// dot/axpy on it — dense rows use this ISA's fixed-order kernels.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "gdcore/linear.hpp"
#include "gdcore/runtime.hpp"
#include "internal.hpp"
#include "team_sync.hpp"

namespace gd::detail {

template <class T, class I = std::int64_t>
struct Row {
  const T* data;
  const I* index;  // null: dense
  std::int64_t nnz;
};

template <class T>
struct RowKernels {
  const KernelTable& k;
  template <class I>
  T dot(const Row<T, I>& x, const T* w) const {
    if (x.index == nullptr) {
      if constexpr (std::is_same_v<T, float>) return k.dot_f32(x.data, w, x.nnz);
      else return k.dot_f64(x.data, w, x.nnz);
    }
    // four partial sums (entry j to partial j mod 4), combined pairwise:
    // the gathers overlap instead of waiting on one chain of additions
    T s0 = T(0), s1 = T(0), s2 = T(0), s3 = T(0);
    std::int64_t j = 0;
    for (; j + 4 <= x.nnz; j += 4) {
      s0 = s0 + x.data[j] * w[x.index[j]];
      s1 = s1 + x.data[j + 1] * w[x.index[j + 1]];
      s2 = s2 + x.data[j + 2] * w[x.index[j + 2]];
      s3 = s3 + x.data[j + 3] * w[x.index[j + 3]];
    }
    if (j < x.nnz) s0 = s0 + x.data[j] * w[x.index[j]];
    if (j + 1 < x.nnz) s1 = s1 + x.data[j + 1] * w[x.index[j + 1]];
    if (j + 2 < x.nnz) s2 = s2 + x.data[j + 2] * w[x.index[j + 2]];
    return (s0 + s2) + (s1 + s3);
  }
  // y += a·x
  template <class I>
  void axpy(T* y, const Row<T, I>& x, T a) const {
    if (x.index == nullptr) {
      if constexpr (std::is_same_v<T, float>) k.axpy_f32(y, x.data, x.nnz, a);
      else k.axpy_f64(y, x.data, x.nnz, a);
      return;
    }
    for (std::int64_t j = 0; j < x.nnz; ++j) y[x.index[j]] = y[x.index[j]] + a * x.data[j];
  }
  // one block of a mini-batch epoch on dense rows (minibatch_block.cpp)
  void minibatch_block(MinibatchBlock<T>& block) const {
    if constexpr (std::is_same_v<T, float>) k.minibatch_block_f32(block);
    else k.minibatch_block_f64(block);
  }
  // out_i = log_loss_value_from_parts(z_i, e_i), on this ISA's vectors
  void log_loss_values(const T* z, const T* e, T* out, std::int64_t n) const {
    if constexpr (std::is_same_v<T, float>) k.log_loss_values_f32(z, e, out, n);
    else k.log_loss_values_f64(z, e, out, n);
  }
  // Σ v² and Σ |v| (in index order, in double) of `count` rows of n values
  // `stride` apart, on this ISA's vectors (norm_sums.cpp)
  void norm_sums(const T* rows, std::int64_t stride, std::int64_t n, int count, double* l2,
                 double* l1) const {
    if constexpr (std::is_same_v<T, float>) k.norm_sums_f32(rows, stride, n, count, l2, l1);
    else k.norm_sums_f64(rows, stride, n, count, l2, l1);
  }
  // w += a·x, then dot(next, w): one pass for dense rows, the same bits as
  // axpy followed by dot.
  template <class I>
  T axpy_dot(T* w, const Row<T, I>& x, T a, const Row<T, I>& next) const {
    if (x.index == nullptr && next.index == nullptr) {
      if constexpr (std::is_same_v<T, float>) return k.axpy_dot_f32(w, x.data, a, next.data, x.nnz);
      else return k.axpy_dot_f64(w, x.data, a, next.data, x.nnz);
    }
    axpy(w, x, a);
    return dot(next, w);
  }
};

#include "prefetch.inc"

template <class T, class I>
void prefetch_row(const Row<T, I>& x) {
  if (x.nnz <= 0) return;
  prefetch_bytes(x.data, std::size_t(x.nnz) * sizeof(T));
  if (x.index != nullptr) prefetch_bytes(x.index, std::size_t(x.nnz) * sizeof(I));
}

// The weights a sparse row will touch (its indices must be loaded already).
template <class T, class I>
void prefetch_weights(const Row<T, I>& x, const T* w) {
#if defined(__GNUC__) || defined(__clang__)
  if (x.index == nullptr) return;
  for (std::int64_t j = 0; j < x.nnz; ++j) {
    __builtin_prefetch(w + x.index[j], 1, 3);
    GDCORE_KEEP_LOOP();
  }
#else
  (void)x;
  (void)w;
#endif
}

/// Prefetching for an order that visits rows block by block (row r belongs
/// to block r / size; the rows inside a block in any order): while one
/// block is visited, the next one is fetched in memory order, one row per
/// row visited.  Memory then sees sequential reads and the shuffled visits
/// hit the cache.  next(k) gives the row to fetch at position k (or -1);
/// positions must come in increasing order.  Finding a block's end reads
/// the order once more (it is in cache) and compares, without divisions.
class BlockPrefetch {
 public:
  BlockPrefetch(const std::int64_t* order, std::int64_t count, std::int64_t n, std::int64_t size)
      : order_(order), count_(count), n_(n), size_(size) {}

  bool first_block(std::int64_t k) const { return k < end_ && start_ == 0; }
  /// The block the last position given to next() is in (0 for the first).
  std::int64_t block() const { return block_; }

  std::int64_t next(std::int64_t k) {
    if (k >= end_) {
      ++block_;
      start_ = k;
      const std::int64_t lo = order_[k] - order_[k] % size_;
      end_ = k + 1;
      while (end_ < count_ && std::uint64_t(order_[end_] - lo) < std::uint64_t(size_)) ++end_;
      next_lo_ = next_hi_ = -1;
      if (end_ < count_) {
        next_lo_ = order_[end_] - order_[end_] % size_;
        next_hi_ = std::min(next_lo_ + size_, n_);
      }
    }
    const std::int64_t q = next_lo_ + (k - start_);
    return q < next_hi_ ? q : -1;
  }

 private:
  const std::int64_t* order_;
  std::int64_t count_, n_, size_;
  std::int64_t start_ = 0, end_ = 0, next_lo_ = -1, next_hi_ = -1, block_ = -1;
};

/// Whether a pass over `count` rows of `row_bytes` each reads enough from
/// memory (more than 4 MiB) for a second thread to read its rows ahead of
/// it (BlockReadAhead, RowReadAhead), where gdcore may use one.
inline bool read_ahead_pays(std::int64_t count, std::int64_t row_bytes) {
  constexpr std::int64_t kMinBytes = std::int64_t(4) << 20;
  return count > 0 && row_bytes > 0 && count > kMinBytes / row_bytes &&
         gd::get_num_threads() > 1;
}

/// Loads one byte of every cache line of p[0..bytes) (and nothing outside).
inline void read_lines(const void* p, std::int64_t bytes) noexcept {
  if (bytes <= 0) return;
  const auto* c = static_cast<const volatile unsigned char*>(p);
  (void)c[0];
  const std::int64_t first = 64 - std::int64_t(reinterpret_cast<std::uintptr_t>(p) & 63);
  for (std::int64_t at = first; at < bytes; at += 64) (void)c[at];
}

/// Loads the lines of rows [lo, hi) (contiguous in memory: their values
/// and, for CSR rows, column indices) and of their targets y and sample
/// weights sw (each skipped when null).
template <class T, class GetRow>
void read_rows(GetRow& row, std::int64_t lo, std::int64_t hi, const T* y, const T* sw) noexcept {
  const auto first = row(lo), last = row(hi - 1);
  read_lines(first.data, (last.data + last.nnz - first.data) * std::int64_t(sizeof(T)));
  if (first.index != nullptr)
    read_lines(first.index, (last.index + last.nnz - first.index) *
                                std::int64_t(sizeof(*first.index)));
  if (y != nullptr) read_lines(y + lo, (hi - lo) * std::int64_t(sizeof(T)));
  if (sw != nullptr) read_lines(sw + lo, (hi - lo) * std::int64_t(sizeof(T)));
}

/// The hand-off between a loop and a second thread reading ahead of it
/// (BlockReadAhead, RowReadAhead): the loop announces its position (enter)
/// and its end (finish); the reader waits for a position (wait_until).
class ReadAheadSignal {
 public:
  void enter(std::int64_t at) noexcept { at_.store(at, std::memory_order_relaxed); }
  void finish() noexcept { done_.store(true, std::memory_order_relaxed); }

 protected:
  /// Spins until the loop's position is at least `at` and returns it; -1
  /// when the reader should stop instead: the loop is done, or the
  /// process's fused loops hold more threads than there are processors
  /// (ThreadGrant::crowded; the reader would take a processor from a loop).
  std::int64_t wait_until(std::int64_t at) const noexcept {
    for (;;) {
      if (done_.load(std::memory_order_relaxed) || ThreadGrant::crowded()) return -1;
      const std::int64_t now = at_.load(std::memory_order_relaxed);
      if (now >= at) return now;
      cpu_relax();
    }
  }

 private:
  alignas(64) std::atomic<std::int64_t> at_{0};
  alignas(64) std::atomic<bool> done_{false};
};

/// A second thread that reads the blocks of a block order (BlockPrefetch's
/// orders) ahead of the loop visiting them.  The loop announces each block
/// it enters (enter(BlockPrefetch::block())) and says when it is done
/// (finish); read(), on the other thread, walks the same blocks and calls
/// span(lo, hi) for the rows [lo, hi) of each (hi may pass the last row)
/// once the loop is at most kLead blocks behind it, and stops early as
/// ReadAheadSignal says.  It only reads, so results are those of the loop
/// alone.
///
/// (Measured on a 2-core AVX-512 Xeon VM, per-sample steps over 500 000 x
/// 100 rows in blocks of 128 KiB, paired builds, medians of 5: float64
/// log_loss 0.054-0.058 -> 0.041-0.042 s an epoch, hinge 0.039-0.043 ->
/// 0.032-0.035 s, float32 hinge 0.022-0.024 -> 0.019 s; float32 log_loss,
/// bound by its arithmetic, 0.037-0.040 -> 0.036-0.037 s.  The steps' own
/// next-block prefetches wait on their core's miss buffers; the reader's
/// loads go through the other core's.  In a standalone loop the reader
/// without those prefetches was slower than they alone, and reading 8
/// blocks ahead slower than 2.)
class BlockReadAhead : public ReadAheadSignal {
 public:
  static constexpr std::int64_t kLead = 2;

  template <class Span>
  void read(const std::int64_t* order, std::int64_t count, std::int64_t size,
            Span&& span) const noexcept {
    std::int64_t k = 0;
    for (std::int64_t j = 0; k < count; ++j) {
      const std::int64_t lo = order[k] - order[k] % size;
      std::int64_t end = k + 1;
      while (end < count && std::uint64_t(order[end] - lo) < std::uint64_t(size)) ++end;
      if (wait_until(j - kLead) < 0) return;
      span(lo, lo + size);
      k = end;
    }
  }
};

/// A second thread that reads the rows of any order (shuffle=True's) ahead
/// of the loop visiting them.  The loop announces its position every kEvery
/// steps (enter(k)); read(), on the other thread, loads the lines of row
/// order[j] (touch) from kLead to kLead + kSpan positions ahead of it,
/// skipping to kLead when it falls behind — beyond the rows the loop
/// prefetches itself (prefetch_distance), so that those prefetches find
/// the rows in a cache instead of memory.  It stops early as
/// ReadAheadSignal says.  It only reads, so results are those of the loop
/// alone.
///
/// (Measured on a 2-core AVX-512 Xeon VM, per-sample steps over 500 000 x
/// 100 float64 rows in a random order, medians of 5 in paired processes:
/// log_loss 0.086-0.095 -> 0.067-0.072 s an epoch, hinge 0.062-0.069 ->
/// 0.054-0.058 s; 80 to 280 or 120 to 320 rows ahead no better than 60 to
/// 160; moving each row the reader had loaded on to the shared cache
/// (CLDEMOTE) 32 rows later made the log_loss epochs 2-10% slower.)
class RowReadAhead : public ReadAheadSignal {
 public:
  static constexpr std::int64_t kLead = 60, kSpan = 100;
  /// The loop announces its position once every kEvery steps.
  static constexpr std::int64_t kEvery = 8;

  template <class Touch>
  void read(const std::int64_t* order, std::int64_t count, Touch&& touch) const noexcept {
    std::int64_t j = 0;
    while (j < count) {
      const std::int64_t at = wait_until(j - kLead - kSpan);
      if (at < 0) return;
      j = std::max(j, at + kLead);
      if (j >= count) return;
      touch(order[j]);
      ++j;
    }
  }
};

#ifdef GDCORE_OPENMP
/// steps() on thread 0 and read(reader) on thread 1 of a team of two
/// (thread 0 alone if OpenMP gives one), reader.finish() after the steps;
/// an exception from steps() is rethrown after the region (it may not
/// leave it).
template <class Reader, class Steps, class Read>
void with_reader(Reader& reader, Steps&& steps, Read&& read) {
  std::exception_ptr error;
#pragma omp parallel num_threads(2)
  {
    if (omp_get_thread_num() == 0) {
      try {
        steps();
      } catch (...) {
        error = std::current_exception();
      }
      reader.finish();
    } else {
      read(reader);
    }
  }
  if (error) std::rethrow_exception(error);
}
#endif

/// Whether prefetching the weights of sparse rows pays: only when the
/// weights outgrow the near caches (L2 and a share of L3).  Prefetching
/// lines the caches hold already only takes slots in the miss buffers
/// (measured: 100 000 float64 weights run ~15% faster without, 1 000 000
/// ~35% slower).
inline bool prefetch_weights_pays(std::int64_t weight_bytes) {
  return weight_bytes > (std::int64_t(4) << 20);
}

/// How many rows ahead to prefetch: about 32 KiB of rows in flight (into
/// L2, see prefetch_bytes), at most 32 rows.  (Measured on an AVX-512 Xeon,
/// rows of 800 bytes in a random order: 40 rows ahead 1.19x faster than 20,
/// 80 no faster than 40; more than 32 rows of 400 bytes no faster.)
inline std::int64_t prefetch_distance(std::int64_t row_bytes) {
  return std::clamp<std::int64_t>(32768 / std::max<std::int64_t>(row_bytes, 64), 2, 32);
}

/// Row i of dense data (DenseData) and of CSR data (CsrData, its values
/// and column indices): the row getters the fused loops take.
template <class Dense>
auto dense_row(const Dense& data, std::int64_t i) {
  using T = std::remove_const_t<std::remove_pointer_t<decltype(data.X)>>;
  return Row<T>{data.X + i * data.d, nullptr, data.d};
}
template <class Csr>
auto csr_row(const Csr& data, std::int64_t i) {
  using T = std::remove_const_t<std::remove_pointer_t<decltype(data.data)>>;
  using I = std::remove_const_t<std::remove_pointer_t<decltype(data.indices)>>;
  const std::int64_t a = std::int64_t(data.indptr[i]), b = std::int64_t(data.indptr[i + 1]);
  return Row<T, I>{data.data + a, data.indices + a, b - a};
}

/// Mean bytes of a CSR row (values and column indices).
template <class Csr>
std::int64_t csr_row_bytes(const Csr& data) {
  if (data.n <= 0) return 0;
  using T = std::remove_const_t<std::remove_pointer_t<decltype(data.data)>>;
  using I = std::remove_const_t<std::remove_pointer_t<decltype(data.indices)>>;
  return std::int64_t(data.indptr[data.n]) * std::int64_t(sizeof(T) + sizeof(I)) / data.n;
}

/// Whether any of p[0..count) lies outside [0, bound): one branch-free pass
/// that vectorises, on the threads.
template <class I>
bool any_outside(const I* p, std::int64_t count, std::int64_t bound) {
  int outside = 0;
  const auto b = static_cast<std::uint64_t>(bound);
  const int nt = threads_for(count / 4);
#ifdef GDCORE_OPENMP
#pragma omp parallel for num_threads(nt) schedule(static) reduction(| : outside) if (nt > 1)
#endif
  for (std::int64_t j = 0; j < count; ++j) outside |= static_cast<std::uint64_t>(p[j]) >= b;
  return outside != 0;
}

/// CSR structure: non-negative shape, targets present (unless `targets` is
/// false), monotone indptr starting at 0, column indices in [0, d).  The
/// O(nnz) passes are skipped when the caller marks the structure as checked
/// already.
template <class Csr>
void check_csr(const Csr& data, bool targets = true) {
  if (data.n < 0 || data.d < 0) throw std::invalid_argument("negative data shape");
  if (data.n > 0 && ((targets && data.y == nullptr) || data.indptr == nullptr))
    throw std::invalid_argument("null data");
  if (data.n > 0 && data.indptr[data.n] != 0 &&
      (data.data == nullptr || data.indices == nullptr))
    throw std::invalid_argument("null data");
  if (data.structure_checked) return;
  if (data.n > 0 && data.indptr[0] != 0) throw std::invalid_argument("indptr[0] must be 0");
  // (branch-free passes that vectorise: this runs on every call)
  bool decreasing = false;
  for (std::int64_t i = 0; i < data.n; ++i) decreasing |= data.indptr[i + 1] < data.indptr[i];
  if (decreasing) throw std::invalid_argument("indptr must not decrease");
  const std::int64_t nnz = data.n > 0 ? data.indptr[data.n] : 0;
  if (any_outside(data.indices, nnz, data.d))
    throw std::invalid_argument("column index outside [0, n_features)");
}

/// A fused loop's loss (a known kind; its ε / threshold >= 0) and penalty.
inline void check_loss_and_penalty(const Loss& loss, Penalty penalty) {
  if (int(loss.kind) < 0 || int(loss.kind) > 7) throw std::invalid_argument("unknown loss");
  if (!(loss.param >= 0.0))
    throw std::invalid_argument("loss parameter (epsilon / threshold) must be >= 0");
  if (int(penalty) < 0 || int(penalty) > 3) throw std::invalid_argument("unknown penalty");
}

/// Row indices of a pass: every order[i] in [0, n).
inline void check_order(const std::int64_t* order, std::int64_t count, std::int64_t n) {
  if (count < 0 || (count > 0 && order == nullptr)) throw std::invalid_argument("bad row order");
  // a vectorised pass first, the culprit only on failure
  if (!any_outside(order, count, n)) return;
  for (std::int64_t i = 0; i < count; ++i)
    if (order[i] < 0 || order[i] >= n)
      throw std::invalid_argument("row index " + std::to_string(order[i]) + " outside [0, " +
                                  std::to_string(n) + ")");
}

/// A span of bytes a call reads or writes, named for its error message.
struct Span {
  const void* data;
  std::int64_t bytes;
  const char* name;
};
template <class T>
Span span_of(const T* p, std::int64_t count, const char* name) {
  return Span{p, p == nullptr || count < 0 ? 0 : count * std::int64_t(sizeof(T)), name};
}

/// Every array a call writes must share no byte with any other array it
/// reads or writes: an output written over the row order or the CSR
/// structure would send later reads outside the data.  Checked before any
/// write; std::invalid_argument naming the pair otherwise.
template <class Written = std::initializer_list<Span>, class Read = std::initializer_list<Span>>
void check_disjoint(const Written& written, const Read& read) {
  auto overlap = [](const Span& a, const Span& b) {
    const char *pa = static_cast<const char*>(a.data), *pb = static_cast<const char*>(b.data);
    return a.bytes > 0 && b.bytes > 0 && pa < pb + b.bytes && pb < pa + a.bytes;
  };
  auto fail = [](const Span& a, const Span& b) {
    throw std::invalid_argument(std::string(a.name) + " must not share memory with " + b.name);
  };
  for (auto a = written.begin(); a != written.end(); ++a) {
    for (auto b = a + 1; b != written.end(); ++b)
      if (overlap(*a, *b)) fail(*a, *b);
    for (const Span& b : read)
      if (overlap(*a, b)) fail(*a, b);
  }
}

/// The arrays a pass reads: its data -- X (or the CSR arrays, after
/// check_csr), y and sample_weight -- and the `count` row numbers it visits
/// (named `rows_name`: the order of an epoch, the rows of a decision).
template <class T>
std::vector<Span> reads_of(const DenseData<T>& data, const std::int64_t* rows, std::int64_t count,
                           const char* rows_name) {
  return {span_of(data.X, data.n * data.d, "X"), span_of(data.y, data.n, "y"),
          span_of(data.sample_weight, data.n, "sample_weight"),
          span_of(rows, count, rows_name)};
}
template <class T, class I>
std::vector<Span> reads_of(const CsrData<T, I>& data, const std::int64_t* rows,
                           std::int64_t count, const char* rows_name) {
  const std::int64_t nnz = data.n > 0 && data.indptr != nullptr ? std::int64_t(data.indptr[data.n]) : 0;
  return {span_of(data.data, nnz, "data"), span_of(data.indices, nnz, "indices"),
          span_of(data.indptr, data.n + 1, "indptr"), span_of(data.y, data.n, "y"),
          span_of(data.sample_weight, data.n, "sample_weight"),
          span_of(rows, count, rows_name)};
}

}  // namespace gd::detail
