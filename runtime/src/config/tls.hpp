#pragma once
// Certificates and keys, checked with OpenSSL, and the in-memory files librdkafka reads
// them from (tls.cpp).
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "config/problems.hpp"
#include "kernel/config.hpp"

namespace kernel::config_detail {

/// Parses certificates and key with OpenSSL: readable, key decrypts, key matches cert.
void check_tls_material(const Settings& settings, Problems& problems, std::vector<std::string>& warnings);
/// "subject CN=x, sha256 AB:CD:..." for each certificate in a PEM bundle.
std::string describe_certificates(std::string_view pem);
/// An in-memory file (memfd): `owner` closes it, `path` is /proc/self/fd/N. On failure
/// `owner` is empty, `error` the system's code and `failed_step` what failed.
struct MemoryFile {
  std::shared_ptr<void> owner;
  std::string path;
  std::error_code error;
  std::string_view failed_step;
};
/// An in-memory file holding `content`.
MemoryFile make_memory_file(std::string_view content);

}  // namespace kernel::config_detail
