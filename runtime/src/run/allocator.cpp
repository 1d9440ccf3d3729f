#include "run/allocator.hpp"

#include <dlfcn.h>

#include <cstddef>
#include <string_view>

namespace kernel::detail {

namespace {

/// The file of the shared object whose malloc the dynamic linker resolves for this process.
std::string_view malloc_provider() {
  void* symbol = dlsym(RTLD_DEFAULT, "malloc");
  Dl_info info{};
  if (!symbol || dladdr(symbol, &info) == 0 || !info.dli_fname) return {};
  return info.dli_fname;
}

bool is_jemalloc(std::string_view provider) { return provider.find("jemalloc") != std::string_view::npos; }

using Mallctl = int (*)(const char*, void*, std::size_t*, void*, std::size_t);

}  // namespace

bool jemalloc_serves_malloc() { return is_jemalloc(malloc_provider()); }

std::string allocator_description() {
  const auto provider = malloc_provider();
  if (is_jemalloc(provider)) {
    // jemalloc's own introspection: mallctl("version") is a const char*.
    if (auto* mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl"))) {
      const char* version = nullptr;
      std::size_t size = sizeof version;
      if (mallctl("version", &version, &size, nullptr, 0) == 0 && version) {
        const std::string_view full(version);  // "5.3.0-0-g<commit>": the release is enough
        return "jemalloc " + std::string(full.substr(0, full.find('-')));
      }
    }
    return "jemalloc";
  }
  if (provider.empty() || provider.find("libc.so") != std::string_view::npos) return "the C library's malloc";
  return "malloc from " + std::string(provider);
}

}  // namespace kernel::detail
