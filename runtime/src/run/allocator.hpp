#pragma once
// Which allocator serves this process's malloc: kernels link jemalloc unless the runtime was
// built with -DKERNEL_ALLOCATOR=system (docs/benchmarks.md says why). Read from the running
// process, not from the build, so a link order that lost the override shows.
#include <string>

namespace kernel::detail {

/// "jemalloc 5.3.0" when jemalloc serves malloc, else "the C library's malloc"
/// (with the file that serves it when that is not the C library).
std::string allocator_description();

/// Whether jemalloc serves this process's malloc.
bool jemalloc_serves_malloc();

}  // namespace kernel::detail
