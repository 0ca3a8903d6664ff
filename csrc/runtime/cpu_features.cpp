// What the CPU and the operating system support, checked once.
#include "internal.hpp"

#if defined(_MSC_VER) && (defined(_M_X64) || defined(__x86_64__))
#include <immintrin.h>
#include <intrin.h>
#endif

namespace gd::detail {

#if defined(__x86_64__) || defined(_M_X64)
#if defined(__GNUC__) || defined(__clang__)
bool cpu_has_avx2_fma() {
  __builtin_cpu_init();
  // libgcc's checks include the OS's XSAVE support for the wider registers.
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
bool cpu_has_avx512() {
  __builtin_cpu_init();
  return cpu_has_avx2_fma() && __builtin_cpu_supports("avx512f") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
}
#elif defined(_MSC_VER)
namespace {
bool os_saves(unsigned long long mask) { return (_xgetbv(0) & mask) == mask; }
void cpuid(int leaf, int sub, int r[4]) { __cpuidex(r, leaf, sub); }
}  // namespace
bool cpu_has_avx2_fma() {
  int r[4];
  cpuid(1, 0, r);
  const bool osxsave = (r[2] >> 27) & 1, fma = (r[2] >> 12) & 1, avx = (r[2] >> 28) & 1;
  if (!(osxsave && avx && fma && os_saves(0x6))) return false;
  cpuid(7, 0, r);
  return (r[1] >> 5) & 1;
}
bool cpu_has_avx512() {
  if (!cpu_has_avx2_fma() || !os_saves(0xe6)) return false;
  int r[4];
  cpuid(7, 0, r);
  const int need = (1 << 16) | (1 << 17) | (1 << 30) | (1 << 31);  // f, dq, bw, vl
  return (r[1] & need) == need;
}
#else
bool cpu_has_avx2_fma() { return false; }
bool cpu_has_avx512() { return false; }
#endif
#else
bool cpu_has_avx2_fma() { return false; }
bool cpu_has_avx512() { return false; }
#endif

}  // namespace gd::detail
