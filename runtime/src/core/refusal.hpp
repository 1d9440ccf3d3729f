#pragma once
// Authentication and TLS refusals, as a client's error callback reports them: which errors
// they are (no retry fixes them: exit 77), and the one line that says so, for a kernel's
// start-up and for kernel-admin alike.
#include <optional>
#include <string>

namespace kernel::detail {

/// The line for a librdkafka error (`err`, `reason` as the error callback has them) that is an
/// authentication or TLS refusal by `servers`, secrets masked; nullopt for any other error.
/// A failed TLS handshake (a plaintext listener, say) is a transport error no retry can fix.
std::optional<std::string> describe_refusal(int err, const char* reason, const std::string& servers);

}  // namespace kernel::detail
