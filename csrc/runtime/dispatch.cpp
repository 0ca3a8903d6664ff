// Choosing the kernel table: from the CPU at start (or GDCORE_ISA), and by
// gd::set_isa afterwards.
#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "gdcore/runtime.hpp"
#include "internal.hpp"

#ifdef GDCORE_HAVE_SCALAR
GDCORE_DECLARE_ISA_TABLE(scalar)
#endif
#ifdef GDCORE_HAVE_AVX2
GDCORE_DECLARE_ISA_TABLE(avx2)
#endif
#ifdef GDCORE_HAVE_AVX512
GDCORE_DECLARE_ISA_TABLE(avx512)
#endif
#ifdef GDCORE_HAVE_NEON
GDCORE_DECLARE_ISA_TABLE(neon)
#endif

namespace gd {
namespace detail {
namespace {
bool always() { return true; }

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

const IsaInfo* find_isa(const std::string& name) {
  for (const auto& i : compiled_isas())
    if (name == i.name) return &i;
  return nullptr;
}

const IsaInfo* best_isa() {
  const IsaInfo* best = nullptr;
  for (const auto& i : compiled_isas())
    if (i.supported()) best = &i;
  return best;
}

const IsaInfo* initial_isa() {
  const char* env = std::getenv("GDCORE_ISA");
  if (env != nullptr && *env != '\0' && std::string(env) != "auto") {
    const IsaInfo* i = find_isa(env);
    if (i != nullptr && i->supported()) return i;
    // An unusable request must not crash the importing process: fall back
    // to the best path; gd::set_isa reports the same request as an error.
  }
  return best_isa();
}

std::atomic<const IsaInfo*>& active() {
  static std::atomic<const IsaInfo*> a{initial_isa()};
  return a;
}
}  // namespace

const std::vector<IsaInfo>& compiled_isas() {
  static const std::vector<IsaInfo> isas = {
#ifdef GDCORE_HAVE_SCALAR
      {"scalar", &gd::scalar::kernel_table, &always},
#endif
#ifdef GDCORE_HAVE_NEON
      {"neon", &gd::neon::kernel_table, &always},
#endif
#ifdef GDCORE_HAVE_AVX2
      {"avx2", &gd::avx2::kernel_table, &cpu_has_avx2_fma},
#endif
#ifdef GDCORE_HAVE_AVX512
      {"avx512", &gd::avx512::kernel_table, &cpu_has_avx512},
#endif
  };
  return isas;
}

const KernelTable& active_table() { return active().load(std::memory_order_relaxed)->table(); }

}  // namespace detail

std::vector<std::string> isa_compiled() {
  std::vector<std::string> out;
  for (const auto& i : detail::compiled_isas()) out.emplace_back(i.name);
  return out;
}

std::vector<std::string> isa_supported() {
  std::vector<std::string> out;
  for (const auto& i : detail::compiled_isas())
    if (i.supported()) out.emplace_back(i.name);
  return out;
}

std::string isa_active() { return detail::active().load()->name; }

void set_isa(const std::string& name) {
  if (name == "auto") {
    detail::active().store(detail::best_isa());
    return;
  }
  const detail::IsaInfo* i = detail::find_isa(name);
  if (i == nullptr) {
    static const char* known[] = {"scalar", "avx2", "avx512", "neon"};
    bool is_known = false;
    for (const char* k : known) is_known = is_known || name == k;
    // (the name as printable text: a NUL would end the message early)
    std::string shown;
    for (const char c : name) shown += (c >= 0x20 && c < 0x7f) ? std::string(1, c) : std::string("?");
    throw std::invalid_argument(
        std::string("ISA '") + shown + "' is " + (is_known ? "not compiled into this build" : "unknown") +
        "; choose 'auto' or one of " + detail::join_names(isa_supported()));
  }
  if (!i->supported())
    throw std::invalid_argument("ISA '" + name +
                                "' is not supported by this CPU; choose 'auto' or one of " +
                                detail::join_names(isa_supported()));
  detail::active().store(i);
}

const char* version() noexcept { return GDCORE_VERSION; }

const char* compiler() noexcept {
#if defined(__clang__)
  static const std::string c = std::string("Clang ") + __clang_version__;
  return c.c_str();
#elif defined(__GNUC__)
  static const std::string c = std::string("GCC ") + __VERSION__;
  return c.c_str();
#elif defined(_MSC_VER)
  static const std::string c = "MSVC " + std::to_string(_MSC_VER);
  return c.c_str();
#else
  return "unknown";
#endif
}

}  // namespace gd
