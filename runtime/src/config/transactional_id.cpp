// The transactional.id of an exactly-once kernel (docs/exactly-once.md): stable across
// restarts of the same instance, so the instance that starts again fences the one it replaces
// and the broker aborts what that one left open; different per instance, so two instances of
// one kernel never fence each other.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>

#include <openssl/evp.h>

#include "config/settings.hpp"
#include "config/transactional_id.hpp"

namespace kernel {

namespace {

/// Longest `<inputs>` part written out; beyond it the topics are named by their hash.
constexpr std::size_t max_inputs_text = 100;

std::string host_name() {
  std::array<char, HOST_NAME_MAX + 1> name{};
  if (gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0') return "localhost";
  return name.data();
}

std::string sha256_prefix(const std::string& text, std::size_t hex_digits) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length && out.size() < hex_digits; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0x0F];
  }
  return out.substr(0, hex_digits);
}

}  // namespace

std::string transactional_id(const Settings& settings) {
  if (!settings.transactional_id.empty()) return settings.transactional_id;
  auto topics = settings.input_topics;
  std::sort(topics.begin(), topics.end());
  std::string inputs;
  for (const auto& topic : topics) inputs += (inputs.empty() ? "" : "+") + topic;
  if (inputs.size() > max_inputs_text) inputs = sha256_prefix(inputs, 16);
  const auto instance = settings.kernel_instance_id.empty() ? host_name() : settings.kernel_instance_id;
  return settings.group_id + "." + inputs + "." + instance;
}

}  // namespace kernel
