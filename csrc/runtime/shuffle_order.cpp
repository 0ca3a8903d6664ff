// The row order of a shuffled pass: a forward Fisher–Yates shuffle that can
// be drawn in pieces (see gdcore/linear.hpp).
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "gdcore/linear.hpp"

namespace gd {
namespace {

// SplitMix64: one 64-bit draw per call (Steele, Lea and Flood, "Fast
// splittable pseudorandom number generators", OOPSLA 2014).
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The 128-bit product a·b as (high, low) 64-bit words.
inline void mul_64x64(std::uint64_t a, std::uint64_t b, std::uint64_t& hi, std::uint64_t& lo) {
#if defined(__SIZEOF_INT128__)
  const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  hi = static_cast<std::uint64_t>(p >> 64);
  lo = static_cast<std::uint64_t>(p);
#else
  const std::uint64_t a0 = a & 0xFFFFFFFFull, a1 = a >> 32;
  const std::uint64_t b0 = b & 0xFFFFFFFFull, b1 = b >> 32;
  const std::uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const std::uint64_t mid = (p00 >> 32) + (p01 & 0xFFFFFFFFull) + (p10 & 0xFFFFFFFFull);
  hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
  lo = (mid << 32) | (p00 & 0xFFFFFFFFull);
#endif
}

// A uniform integer in [0, bound), bound >= 1: the high word of r·bound,
// redrawn while the low word falls below 2^64 mod bound (Lemire, "Fast
// random integer generation in an interval", ACM TOMACS 2019).
inline std::uint64_t below(std::uint64_t bound, std::uint64_t& state) {
  std::uint64_t hi, lo;
  mul_64x64(splitmix64(state), bound, hi, lo);
  if (lo < bound) {
    const std::uint64_t threshold = (0 - bound) % bound;
    while (lo < threshold) mul_64x64(splitmix64(state), bound, hi, lo);
  }
  return hi;
}

inline void prefetch_for_write(const std::int64_t* p) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 1, 3);
#else
  (void)p;
#endif
}

}  // namespace

void shuffle_order(std::int64_t* order, std::int64_t n, std::int64_t begin, std::int64_t end,
                   std::uint64_t& state) {
  if (n < 0) throw std::invalid_argument("row count must be >= 0");
  if (!(0 <= begin && begin <= end && end <= n))
    throw std::invalid_argument("shuffle_order needs 0 <= begin <= end <= n, got begin " +
                                std::to_string(begin) + ", end " + std::to_string(end) +
                                ", n " + std::to_string(n));
  if (end > begin && order == nullptr) throw std::invalid_argument("null order");
  // The positions j do not depend on the entries, so they are drawn kAhead
  // steps early and their cache lines fetched while earlier steps swap (the
  // swaps land at random places of an array larger than the caches).
  constexpr std::int64_t kAhead = 16;
  std::int64_t ring[kAhead];
  std::uint64_t s = state;
  // step k's position j, uniform in [k, n), and its cache line on its way
  auto draw = [&](std::int64_t k) {
    ring[k % kAhead] = k + static_cast<std::int64_t>(below(std::uint64_t(n - k), s));
    prefetch_for_write(order + ring[k % kAhead]);
  };
  for (std::int64_t k = begin, first = std::min(end, begin + kAhead); k < first; ++k) draw(k);
  for (std::int64_t k = begin; k < end; ++k) {
    const std::int64_t j = ring[k % kAhead];
    if (k + kAhead < end) draw(k + kAhead);
    const std::int64_t t = order[k];
    order[k] = order[j];
    order[j] = t;
  }
  state = s;
}

}  // namespace gd
