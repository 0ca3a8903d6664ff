// Internal to the runtime: the active kernel table and the chunked parallel
// driver shared by the optimizer and clipping entry points.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel_table.hpp"

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

/// Elementwise chunks are kChunk elements (a multiple of every vector width),
/// so a tensor's split does not depend on the thread count.
inline constexpr std::int64_t kChunk = 1 << 13;

/// Split tensors of the given sizes into chunks of at most `chunk` elements.
void make_chunks(const std::int64_t* sizes, std::size_t count, std::int64_t chunk,
                 std::vector<Chunk>& out, std::int64_t& total);

}  // namespace gd::detail
