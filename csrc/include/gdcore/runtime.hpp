// gdcore public C++ API: build information, instruction-set dispatch, threads.
//
// No Python and no intrinsics here: this header is installed for C++, Cython
// and PyTorch-extension embedders, and is the only API the Python bindings use.
#pragma once

#include <string>
#include <vector>

namespace gd {

/// Version of the library, e.g. "0.1.0".
const char* version() noexcept;

/// Compiler that built the library, e.g. "GCC 12.2.0".
const char* compiler() noexcept;

/// ISA paths compiled into this build, lowest first ("scalar", "avx2",
/// "avx512" on x86-64; "neon" on AArch64).
std::vector<std::string> isa_compiled();

/// ISA paths that this CPU and operating system can run, lowest first.
std::vector<std::string> isa_supported();

/// The ISA path that kernels currently run on.
std::string isa_active();

/// Select the ISA path: "auto" (the best supported; also what the library
/// starts with, unless the environment variable GDCORE_ISA names a path) or
/// one of isa_supported().  Throws std::invalid_argument naming the choices
/// for a path that is unknown, not compiled, or not supported by this CPU.
void set_isa(const std::string& name);

/// Whether the library was built with OpenMP.
bool has_openmp() noexcept;

/// The most threads set_num_threads takes.
inline constexpr int kMaxThreads = 4096;

/// Number of threads kernels use.  Starts at OpenMP's default (which honours
/// OMP_NUM_THREADS); always 1 without OpenMP, and 1 in a process made by
/// fork() from one that had loaded gdcore (OpenMP's worker threads do not
/// survive fork, and waiting for them would hang the child).
int get_num_threads() noexcept;

/// Set the number of threads kernels use (1 <= n <= kMaxThreads; throws
/// std::invalid_argument otherwise).  Results do not depend on it.  In a
/// forked child the kernels still run on one thread.
void set_num_threads(int n);

}  // namespace gd
