// Spin-then-sleep counters for the threads of a fused loop (team_sync.hpp).
#include "team_sync.hpp"

#include <algorithm>
#include <cstdlib>
#include <thread>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#define GDCORE_HAVE_FUTEX 1
#endif

#ifdef GDCORE_OPENMP
#include <omp.h>
#endif

namespace gd::detail {
namespace {

// Pauses before a wait sleeps (a pause is ~30 ns on current x86 cores); the
// waits of a balanced batch are a few microseconds.
constexpr int kSpins = 20000;

// Threads the process's fused loops hold (ThreadGrant), and the processors.
std::atomic<int>& busy_threads() {
  static std::atomic<int> n{0};
  return n;
}
int processors() {
  static const int n = [] {
#ifdef GDCORE_OPENMP
    return omp_get_num_procs();  // the processors this process may run on
#else
    const unsigned h = std::thread::hardware_concurrency();
    return h == 0 ? 1 : int(h);
#endif
  }();
  return n;
}

#ifdef GDCORE_HAVE_FUTEX
static_assert(sizeof(std::atomic<std::int32_t>) == sizeof(std::int32_t),
              "a futex word is a plain 32-bit integer");
int* futex_word(std::atomic<std::int32_t>& a) { return reinterpret_cast<int*>(&a); }
#endif

}  // namespace

ThreadGrant::ThreadGrant(int wanted) noexcept : count_(1) {
  auto& busy = busy_threads();
  int now = busy.load(std::memory_order_relaxed);
  for (;;) {
    const int free = processors() - now;
    count_ = std::max(1, std::min(wanted, free));
    if (busy.compare_exchange_weak(now, now + count_, std::memory_order_relaxed)) break;
  }
}

ThreadGrant::~ThreadGrant() { busy_threads().fetch_sub(count_, std::memory_order_relaxed); }

bool ThreadGrant::crowded() noexcept {
  return busy_threads().load(std::memory_order_relaxed) > processors();
}

TeamSync::TeamSync(int team) : signals_(new TeamSignal[team > 0 ? team : 1]) {}

bool TeamSync::available() noexcept {
#ifdef GDCORE_HAVE_FUTEX
  // GDCORE_OPENMP_BARRIERS=1 in the environment keeps OpenMP's barriers
  // (the other platforms' path)
  static const bool off = [] {
    const char* v = std::getenv("GDCORE_OPENMP_BARRIERS");
    return v != nullptr && v[0] != '\0' && v[0] != '0';
  }();
  return !off;
#else
  return false;
#endif
}

void TeamSync::post(int tid, std::int32_t value) noexcept {
  TeamSignal& s = signals_[tid];
  // sequentially consistent store, then load: either this sees a sleeper
  // or the sleeper's own check sees the new value (no lost wake-up)
  s.value.store(value, std::memory_order_seq_cst);
#ifdef GDCORE_HAVE_FUTEX
  if (s.sleepers.load(std::memory_order_seq_cst) > 0)
    syscall(SYS_futex, futex_word(s.value), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
#endif
}

void TeamSync::wait(int tid, std::int32_t value) const noexcept {
  TeamSignal& s = signals_[tid];
  const int spins = busy_threads().load(std::memory_order_relaxed) <= processors() ? kSpins : 0;
  for (int i = 0; i < spins; ++i) {
    if (ready(tid, value)) return;
    cpu_relax();
  }
  for (;;) {
    const std::int32_t now = s.value.load(std::memory_order_acquire);
    if (now >= value) return;
#ifdef GDCORE_HAVE_FUTEX
    s.sleepers.fetch_add(1, std::memory_order_seq_cst);
    if (s.value.load(std::memory_order_seq_cst) == now)  // sleeps only while still `now`
      syscall(SYS_futex, futex_word(s.value), FUTEX_WAIT_PRIVATE, now, nullptr, nullptr, 0);
    s.sleepers.fetch_sub(1, std::memory_order_seq_cst);
#else
    std::this_thread::yield();
#endif
  }
}

}  // namespace gd::detail
