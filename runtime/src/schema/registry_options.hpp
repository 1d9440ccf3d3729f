#pragma once
// How to reach a schema registry: filled from the KAFKA_SCHEMA_REGISTRY_* settings at start,
// or by a test directly.
#include <chrono>
#include <cstddef>
#include <string>

namespace kernel::schema {

struct RegistryOptions {
  /// http://host:port or https://host:port, optionally with a path prefix; no trailing slash needed.
  std::string url;
  /// HTTP basic authentication when `user` is not empty.
  std::string user;
  std::string password;
  /// PEM: the CA bundle to verify an https registry with (the system's when empty), and a
  /// client certificate with its key (and the key's password) for mutual TLS.
  std::string ca_pem;
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string client_key_password;
  /// Each of connect, send and receive; a registry slower than this is unavailable.
  std::chrono::milliseconds timeout{5000};
  /// An answer larger than this is refused: schemas are small, a flood is not trusted.
  std::size_t max_answer_bytes = std::size_t{1} << 20;
  /// Schemas kept by id; the oldest looked-up one goes first past the bound.
  std::size_t cache_capacity = 1000;
};

}  // namespace kernel::schema
