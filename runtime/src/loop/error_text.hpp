#pragma once
// What a record may carry of a failure: an exception's text or type can quote anything, a
// secret included (a URL with its API key). Every header the loop writes from an error
// (dlq-error-message, dlq-error-type, retry-first-error) takes it from masked_error_text(),
// which masks with the same function as every log line (Config::redact_secret_values).
#include <cstddef>
#include <string>
#include <string_view>

#include "kernel/config.hpp"

namespace kernel::detail {

/// `text` with every secret value `config` holds replaced by ***, then cut to at most `limit`
/// bytes without splitting a UTF-8 sequence. Masked before it is cut, so a secret across the
/// limit leaves no unmasked prefix behind.
std::string masked_error_text(const Config& config, std::string_view text, std::size_t limit);

}  // namespace kernel::detail
