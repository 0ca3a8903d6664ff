// Internal to the runtime: how the threads of a fused mini-batch loop hand a
// batch to each other (linear.cpp's run_batches).  Each thread owns one
// counter on its own cache line and raises it; the others wait for it to
// reach a value, spinning for a while and then sleeping in the kernel.
//
// The loop needs only one-way signals: a helper's count of blocks done and
// thread 0's count of batches finished.  An OpenMP barrier pair cost about
// 1.2 us a batch here against 0.06 us for a raised counter, and a batch of
// 500 float32 rows of 100 features is about 10 us of work.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#endif

namespace gd::detail {

/// One step of a spin-wait (a pause on x86, ~30 ns on current cores).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
  _mm_pause();
#endif
}

/// One thread's counter, alone on its cache line.
struct alignas(64) TeamSignal {
  std::atomic<std::int32_t> value{0};
  std::atomic<std::int32_t> sleepers{0};
};

/// The threads a fused loop may run on: of the `wanted`, as many as the
/// processors not held by the process's other fused loops (at least one,
/// the caller's own), held until the grant ends.  A loop that synchronises
/// every batch slows down by an order of magnitude when its threads
/// outnumber the processors (one-vs-rest problems trained side by side, or
/// more threads set than there are cores); its results do not depend on the
/// thread count.
class ThreadGrant {
 public:
  explicit ThreadGrant(int wanted) noexcept;
  ~ThreadGrant();
  ThreadGrant(const ThreadGrant&) = delete;
  ThreadGrant& operator=(const ThreadGrant&) = delete;
  int count() const noexcept { return count_; }
  /// Whether the process's fused loops now hold more threads than there
  /// are processors (a thread that only helps should then stop).
  static bool crowded() noexcept;

 private:
  int count_;
};

/// The signals of a team of `team` threads.  While the process's fused
/// loops hold no more threads than there are processors a wait spins (up
/// to about 0.6 ms) before it sleeps; with more it sleeps at once, so that
/// a waiting thread never holds a processor the thread it waits for needs.
class TeamSync {
 public:
  explicit TeamSync(int team);
  TeamSync(const TeamSync&) = delete;
  TeamSync& operator=(const TeamSync&) = delete;

  /// Whether this build can sleep on a counter (Linux futexes) and the
  /// environment does not set GDCORE_OPENMP_BARRIERS=1; otherwise the loops
  /// keep OpenMP's barriers.
  static bool available() noexcept;

  /// Thread `tid` raises its counter to `value` (releasing its writes).
  void post(int tid, std::int32_t value) noexcept;
  /// Wait until thread `tid`'s counter is at least `value` (acquiring the
  /// writes made before it was raised).
  void wait(int tid, std::int32_t value) const noexcept;
  /// Whether thread `tid`'s counter is at least `value` now (acquiring as
  /// wait does).
  bool ready(int tid, std::int32_t value) const noexcept {
    return signals_[tid].value.load(std::memory_order_acquire) >= value;
  }

 private:
  std::unique_ptr<TeamSignal[]> signals_;
};

}  // namespace gd::detail
