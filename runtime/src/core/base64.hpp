#pragma once
// Base64 (RFC 4648, standard alphabet, padded): the JSON Lines form of bytes that are not
// UTF-8 (kernel::jsonl) and a PEM value given base64-encoded in an environment variable
// (kernel::config). Compiled into kernel_config, the lower of the two libraries.
#include <optional>
#include <string>
#include <string_view>

namespace kernel::detail {

std::string base64_encode(std::string_view bytes);

/// The bytes `text` encodes, or nullopt when it is not padded base64. Line breaks, spaces and
/// tabs are ignored (a PEM body spans lines).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace kernel::detail
