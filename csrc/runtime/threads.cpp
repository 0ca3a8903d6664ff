// Thread count and the chunking shared by all parallel entry points.
#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>

#include "gdcore/runtime.hpp"
#include "internal.hpp"

#ifdef GDCORE_OPENMP
#include <omp.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define GDCORE_HAVE_ATFORK 1
#endif

namespace gd {
namespace {
int default_threads() {
#ifdef GDCORE_OPENMP
  return std::clamp(omp_get_max_threads(), 1, kMaxThreads);
#else
  return 1;
#endif
}

// A child made by fork() inherits none of the parent's OpenMP worker
// threads, and GNU OpenMP's first parallel region in it waits for them
// forever: the child runs every kernel on its own thread.
std::atomic<bool> g_forked{false};
#ifdef GDCORE_HAVE_ATFORK
void on_fork_child() { g_forked.store(true, std::memory_order_relaxed); }
#endif

std::atomic<int>& num_threads() {
  static std::atomic<int> n{[] {
#ifdef GDCORE_HAVE_ATFORK
    // (registered before the first parallel region can run: every region
    // asks for the thread count first)
    pthread_atfork(nullptr, nullptr, on_fork_child);
#endif
    return default_threads();
  }()};
  return n;
}
}  // namespace

bool has_openmp() noexcept {
#ifdef GDCORE_OPENMP
  return true;
#else
  return false;
#endif
}

int get_num_threads() noexcept {
  const int n = num_threads().load(std::memory_order_relaxed);
  return g_forked.load(std::memory_order_relaxed) ? 1 : n;
}

void set_num_threads(int n) {
  if (n < 1 || n > kMaxThreads)
    throw std::invalid_argument("num_threads must be in [1, " + std::to_string(kMaxThreads) +
                                "], got " + std::to_string(n));
#ifdef GDCORE_OPENMP
  num_threads().store(n);
#else
  num_threads().store(1);
#endif
}

namespace detail {

int threads_for(std::int64_t elements) {
  // Below this many elements a parallel region costs more than it saves.
  constexpr std::int64_t kParallelMin = 1 << 14;
  if (elements < kParallelMin) return 1;
  const int n = get_num_threads();
  const std::int64_t useful = std::max<std::int64_t>(1, elements / (kParallelMin / 2));
  return int(std::min<std::int64_t>(n, useful));
}

void make_chunks(const std::int64_t* sizes, std::size_t count, std::int64_t chunk,
                 std::vector<Chunk>& out, std::int64_t& total) {
  out.clear();
  total = 0;
  for (std::size_t t = 0; t < count; ++t) {
    const std::int64_t n = sizes[t];
    total += n;
    for (std::int64_t b = 0; b < n; b += chunk)
      out.push_back({std::int64_t(t), b, std::min(n, b + chunk)});
  }
}

}  // namespace detail
}  // namespace gd
