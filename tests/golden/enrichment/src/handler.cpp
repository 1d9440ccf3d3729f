// The handler: it adds fields from a lookup table to each message and forwards it.
#include "handler.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace payment_enricher {

namespace {

/// Account details by account id. This in-file table stands in for the real source (a
/// database, a service, a cache): replace lookup_account() and keep handle() as it is. If
/// the source can be briefly unavailable, throw kernel::TransientError from there.
std::optional<nlohmann::json> lookup_account(std::string_view account) {
  static const std::map<std::string, nlohmann::json, std::less<>> accounts{
      {"acme", {{"name", "Acme Corporation"}, {"region", "eu-west"}, {"tier", "gold"}}},
      {"globex", {{"name", "Globex"}, {"region", "us-east"}, {"tier", "silver"}}},
  };
  const auto found = accounts.find(account);
  if (found == accounts.end()) return std::nullopt;
  return found->second;
}

}  // namespace

void handle(const kernel::Message& message, kernel::Context& context) {
  // The whole document is kept, so fields this kernel does not know are forwarded unchanged.
  auto document = message.json();  // not JSON: dead-lettered (deserialization_error)
  if (!document.is_object() || !document.contains("account") || !document["account"].is_string()) {
    throw kernel::PermanentError("expected a JSON object with a string \"account\"",
                                 kernel::FailureReason::validation_error);
  }
  const auto account = document["account"].get<std::string>();

  if (auto details = lookup_account(account)) {
    document["account_details"] = std::move(*details);
  } else {
    // Enrichment never drops data: forward it without details and say so.
    context.log().warn("no details for account {} ({}[{}]@{}); forwarded without them", account,
                       message.topic(), message.partition(), message.offset());
    document["account_details"] = nullptr;
  }

  // To the output topic, with the input's key so that per-key order carries over. The
  // runtime adds the standard headers (event-id, correlation-id, causation-id, ...).
  context.produce(kernel::Outgoing{}.key(message.key()).json(document).event_type("payment-enricher.enriched"));
}

}  // namespace payment_enricher
