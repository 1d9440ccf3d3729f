// Secret masking for anything printed: librdkafka's log lines and conf dumps show some
// secrets in clear, so every such line passes through mask_secrets() first.
#include "config/config_detail.hpp"

namespace kernel {

namespace {

// Keys whose values are hidden, as librdkafka names them and as our variables do.
constexpr std::string_view secret_keys[] = {
    "sasl.password",        "ssl.key.password",       "ssl.key.pem",
    "ssl.certificate.pem",  "ssl_key",                "ssl.keystore.password",
    "ssl.truststore.password", "sasl.oauthbearer.client.secret", "sasl.oauthbearer.config",
    "ssl_certificate",      "KAFKA_CLIENT_KEY",       "KAFKA_CLIENT_KEY_PASSWORD",
    "KAFKA_SASL_PASSWORD",  "KERNEL_ADMIN_TOKEN"};

bool is_key_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_';
}

// After `key`, an optional closing quote, spaces, then `=` or `:`; returns where the value
// starts, or npos when this is not a key/value pair.
std::size_t value_start(std::string_view text, std::size_t after_key) {
  auto i = after_key;
  if (i < text.size() && (text[i] == '"' || text[i] == '\'')) ++i;
  while (i < text.size() && text[i] == ' ') ++i;
  if (i >= text.size() || (text[i] != '=' && text[i] != ':')) return std::string_view::npos;
  ++i;
  while (i < text.size() && text[i] == ' ') ++i;
  return i;
}

// The value ends at its closing quote, or at the end of the line. A PEM value runs to its
// END line, even across lines.
std::size_t value_end(std::string_view text, std::size_t start) {
  if (start < text.size() && (text[start] == '"' || text[start] == '\'')) {
    const auto close = text.find(text[start], start + 1);
    return close == std::string_view::npos ? text.size() : close + 1;
  }
  if (text.substr(start).starts_with("-----BEGIN")) {
    const auto end = text.find("-----END", start);
    if (end == std::string_view::npos) return text.size();
    const auto dashes = text.find("-----", end + 8);
    return dashes == std::string_view::npos ? text.size() : dashes + 5;
  }
  const auto newline = text.find('\n', start);
  return newline == std::string_view::npos ? text.size() : newline;
}

std::string mask_keyed_values(std::string_view text) {
  std::string out;
  std::size_t copied = 0;
  for (std::size_t i = 0; i < text.size();) {
    bool masked = false;
    if (i == 0 || !is_key_char(text[i - 1])) {
      for (const auto key : secret_keys) {
        if (text.substr(i, key.size()) != key) continue;
        const auto after = i + key.size();
        if (after < text.size() && is_key_char(text[after])) continue;
        const auto start = value_start(text, after);
        if (start == std::string_view::npos) continue;
        const auto end = value_end(text, start);
        if (end == start) continue;  // empty value: nothing to hide
        out.append(text.substr(copied, start - copied));
        out += "***";
        copied = end;
        i = end;
        masked = true;
        break;
      }
    }
    if (!masked) ++i;
  }
  out.append(text.substr(copied));
  return out;
}

// Any private key block, wherever it appears (debug output, exceptions).
std::string mask_private_key_blocks(std::string text) {
  for (auto begin = text.find("-----BEGIN"); begin != std::string::npos;
       begin = text.find("-----BEGIN", begin + 1)) {
    const auto header_end = text.find("-----", begin + 10);
    if (header_end == std::string::npos) break;
    const auto header = std::string_view(text).substr(begin, header_end - begin);
    if (header.find("PRIVATE KEY") == std::string_view::npos) continue;
    const auto end = text.find("-----END", header_end);
    auto stop = end == std::string::npos ? text.size() : text.find("-----", end + 8);
    stop = stop == std::string::npos ? text.size() : stop + 5;
    text.replace(begin, stop - begin, "***");
  }
  return text;
}

}  // namespace

std::string mask_secrets(std::string_view text) {
  return mask_private_key_blocks(mask_keyed_values(text));
}

namespace config_detail {

bool is_secret_property(std::string_view property) {
  for (const auto key : secret_keys) {
    if (key == property) return true;
  }
  return property.find("password") != std::string_view::npos ||
         property.find("secret") != std::string_view::npos;
}

bool is_secret_name(std::string_view variable) {
  if (is_secret_variable(variable)) return true;
  const auto property = passthrough_property_name(variable);
  return property && is_secret_property(*property);
}

}  // namespace config_detail
}  // namespace kernel
