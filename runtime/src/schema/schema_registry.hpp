#pragma once
// A Confluent-compatible schema registry's client: schemas by id for decoding, cached with a
// bound; a subject's schema registered (or looked up) once for encoding, its id cached.
// Thread-safe: the loop and the workers share one.
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "schema/registry_http.hpp"
#include "schema/registry_options.hpp"
#include "schema/registry_result.hpp"
#include "schema/schema_types.hpp"

namespace kernel::schema {

class SchemaRegistry {
 public:
  /// Throws std::invalid_argument as RegistryHttp does. Makes no request yet.
  explicit SchemaRegistry(const RegistryOptions& options);

  /// GET /schemas/ids/{id}, once per id while it stays in the cache. The schema stays valid
  /// for its holder after the cache lets it go.
  RegistryResult<std::shared_ptr<const Schema>> schema_by_id(std::int32_t id);
  /// POST /subjects/{subject}/versions: registers the schema (the registry answers an
  /// identical one with its existing id) and caches its id for (subject, text).
  RegistryResult<std::int32_t> register_schema(std::string_view subject, SchemaType type, std::string_view text,
                                               const std::vector<SchemaReference>& references = {});
  /// POST /subjects/{subject}: the id of a schema already registered there, without
  /// registering it (when the kernel may not register); cached as register_schema's.
  RegistryResult<std::int32_t> lookup_schema(std::string_view subject, SchemaType type, std::string_view text,
                                             const std::vector<SchemaReference>& references = {});

  /// Schemas held by id now (for tests and the status page).
  std::size_t cached_schemas() const;
  /// Requests sent so far (for tests: a cached answer sends none).
  std::size_t requests_sent() const;

 private:
  RegistryResult<std::int32_t> subject_schema_id(std::string_view path_suffix, std::string_view subject,
                                                 SchemaType type, std::string_view text,
                                                 const std::vector<SchemaReference>& references);

  RegistryHttp http_;
  std::size_t capacity_;
  mutable std::mutex mutex_;  // the caches below; never held across a request
  // By id, least recently used last: a lookup moves its entry to the front.
  std::list<std::pair<std::int32_t, std::shared_ptr<const Schema>>> by_id_order_;
  std::unordered_map<std::int32_t, decltype(by_id_order_)::iterator> by_id_;
  // (subject, type, text) -> id; a kernel encodes few schemas, but bounded all the same.
  std::unordered_map<std::string, std::int32_t> ids_by_subject_schema_;
  std::size_t requests_ = 0;
};

/// A schema's JSON from GET /schemas/ids/{id}: its text, type (AVRO when absent) and references.
RegistryResult<Schema> schema_from_json(const nlohmann::json& answer);

}  // namespace kernel::schema
