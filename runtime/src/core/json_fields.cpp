// Which fields a failed from_json conversion tripped on. nlohmann::json says what went wrong
// ("type must be string, but is number", "key 'zip' not found") but, built without
// JSON_DIAGNOSTICS (which changes its ABI and trips GCC 12 warnings), not where. A conversion
// is a pure function of the document, so running it again on corrected copies finds out.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kernel/message.hpp"

namespace kernel::detail {

namespace {

using nlohmann::json;

constexpr std::size_t max_values = 5'000;
constexpr std::size_t max_candidates = 32;
constexpr std::size_t max_named = 4;

struct Candidate {
  json::json_pointer at;
  std::string field;  // as a reader writes it: items[1].qty
};

/// What went wrong, from a message without a path: the type expected and found, or the key
/// missing.
struct Problem {
  std::string expected, found;  // "type must be <expected>, but is <found>"
  std::string missing_key;      // "key '<missing_key>' not found"
};

std::optional<Problem> problem_of(std::string_view what) {
  if (what.starts_with("[json.exception.")) {
    const auto end = what.find("] ");
    if (end == std::string_view::npos) return std::nullopt;
    what.remove_prefix(end + 2);
  }
  constexpr std::string_view type_must_be = "type must be ", but_is = ", but is ";
  constexpr std::string_view key = "key '", not_found = "' not found";
  if (what.starts_with(type_must_be)) {
    const auto split = what.find(but_is);
    if (split == std::string_view::npos) return std::nullopt;
    return Problem{std::string(what.substr(type_must_be.size(), split - type_must_be.size())),
                   std::string(what.substr(split + but_is.size())),
                   {}};
  }
  if (what.starts_with(key) && what.ends_with(not_found) && what.size() > key.size() + not_found.size()) {
    return Problem{{}, {}, std::string(what.substr(key.size(), what.size() - key.size() - not_found.size()))};
  }
  return std::nullopt;  // a path is already there (JSON_DIAGNOSTICS), or nothing to locate
}

/// A value of the given type name, to put where one of another type tripped the conversion.
std::optional<json> value_of_type(std::string_view type) {
  if (type == "string") return json("");
  if (type == "number") return json(0);
  if (type == "boolean") return json(false);
  if (type == "array") return json::array();
  if (type == "object") return json::object();
  if (type == "null") return json(nullptr);
  return std::nullopt;
}

/// Walks the document (depth is already bounded by Message::json()) collecting the values
/// `wanted` picks, and what is inside them unless `whole`; false once the document or the
/// candidates exceed the bounds.
template <class Wanted>
bool collect(const json& node, const json::json_pointer& at, const std::string& field, const Wanted& wanted, bool whole,
             std::vector<Candidate>& out, std::size_t& seen) {
  if (++seen > max_values) return false;
  if (wanted(node, at)) {
    out.push_back({at, field});
    if (out.size() > max_candidates) return false;
    if (whole) return true;  // a candidate replaced whole leaves nothing inside it to correct
  }
  if (node.is_object()) {
    for (const auto& [name, child] : node.items()) {
      if (!collect(child, at / name, field.empty() ? name : field + "." + name, wanted, whole, out, seen)) return false;
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      if (!collect(node[i], at / i, field + "[" + std::to_string(i) + "]", wanted, whole, out, seen)) return false;
    }
  }
  return true;
}

/// The what() convert throws on `document`, or nullopt when it converts.
std::optional<std::string> failure_of(const json& document, JsonConversion convert) {
  try {
    convert(document);
    return std::nullopt;
  } catch (const std::exception& error) {
    return std::string(error.what());
  }
}

std::string with_fields(const std::vector<std::string>& fields, const std::string& problem) {
  if (fields.empty()) return problem;
  std::string out = fields.size() == 1 ? "field " : "fields ";
  for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? ", \"" : "\"") + fields[i] + "\"";
  return out + ": " + problem;
}

}  // namespace

namespace {

/// A value the conversion refuses where it expects `expected`, of another type than `found`:
/// put in a candidate's place, the conversion complains about it ("but is object") if and
/// only if it reads it there. (nlohmann reads a boolean as a number, an array of pairs as an
/// object.)
json marker_for(std::string_view expected, std::string_view found) {
  for (std::string_view type : {"object", "array", "boolean", "string", "number"}) {
    if (type == expected || type == found) continue;
    if ((expected == "number" && type == "boolean") || (expected == "object" && type == "array")) continue;
    return *value_of_type(type);
  }
  return nullptr;
}

std::string locate(const json& document, std::string_view what, JsonConversion convert) {
  const auto problem = problem_of(what);
  if (!problem) return describe_json_error(what);
  const bool missing = !problem->missing_key.empty();
  const auto fix = missing ? std::optional<json>() : value_of_type(problem->expected);
  if (!missing && !fix) return describe_json_error(what);
  const auto marker = marker_for(problem->expected, problem->found);

  std::vector<Candidate> candidates;
  std::size_t seen = 0;
  const auto wanted = [&](const json& node, const json::json_pointer& at) {
    if (missing) return node.is_object() && !node.contains(problem->missing_key);
    return !at.empty() && node.type_name() == problem->found;  // the root is no field
  };
  if (!collect(document, json::json_pointer(), std::string(), wanted, !missing, candidates, seen)) {
    return describe_json_error(what);
  }

  // Round by round, the candidate whose marker the conversion trips on (and no other) is the
  // field that failed first; corrected, the next round finds the next one failing the same way.
  const auto tripped = std::string(what.substr(0, what.size() - problem->found.size())) + marker.type_name();
  json probe = document;
  std::vector<std::string> fields;
  std::vector<bool> named(candidates.size(), false);
  while (fields.size() < max_named && failure_of(probe, convert) == std::string(what)) {
    std::optional<std::size_t> first;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      if (named[i]) continue;
      auto& slot = missing ? probe[candidates[i].at][problem->missing_key] : probe[candidates[i].at];
      json original = std::move(slot);
      slot = marker;
      const auto failure = failure_of(probe, convert);
      if (missing) {
        probe[candidates[i].at].erase(problem->missing_key);
      } else {
        probe[candidates[i].at] = std::move(original);
      }
      // Read where the failure is: the same complaint about the marker. (Read before it as
      // what it is, it complains "must be <found>"; not read, or after, nothing changes.)
      if (missing ? failure == std::string(what) : failure != tripped) continue;
      if (first) return with_fields(fields, describe_json_error(what));  // ambiguous: stop here
      first = i;
    }
    if (!first) break;
    named[*first] = true;
    const auto& c = candidates[*first];
    if (missing) {  // one missing key at a time: what the field should hold is unknown
      fields.push_back(c.field.empty() ? problem->missing_key : c.field + "." + problem->missing_key);
      return with_fields(fields, "missing");
    }
    fields.push_back(c.field);
    probe[c.at] = *fix;
  }
  return with_fields(fields, describe_json_error(what));
}

}  // namespace

std::string describe_conversion_error(const json& document, std::string_view what, JsonConversion convert) {
  try {
    return locate(document, what, convert);
  } catch (const std::exception&) {  // the search is a courtesy: never worse than no field
    return describe_json_error(what);
  }
}

}  // namespace kernel::detail
