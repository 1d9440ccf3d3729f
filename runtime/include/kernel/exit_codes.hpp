#pragma once
/// The exit codes of a kernel and of the runtime's tools.

namespace kernel {

/// Exit codes (docs/reference.md, "Exit codes").
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int failure = 1;  ///< FatalError, or work left at the shutdown deadline
inline constexpr int usage = 64;
inline constexpr int unavailable = 69;
inline constexpr int software = 70;       ///< fatal librdkafka error, or the kernel's code wrong at start
inline constexpr int no_permission = 77;  ///< authentication or TLS refused
inline constexpr int config = 78;
}  // namespace exit_code

}  // namespace kernel
