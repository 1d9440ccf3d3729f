#pragma once
// The checks every Settings gets, load and from_settings alike (validate.cpp), and the
// effective values they quote.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "config/problems.hpp"
#include "kernel/config.hpp"

namespace kernel::config_detail {

using Values = std::map<std::string, std::string, std::less<>>;  // variable -> text

/// Every registry variable's effective value as a user would write it, plus the
/// KAFKA_PROPERTY_* ones (secrets included: callers mask them).
Values effective_values(const Settings& settings);

/// Each variable's own constraints (the registry's check), then the relations between
/// settings (acks and idempotence, timeouts, backoff, topics, TLS and SASL combinations, what a
/// batch kernel allows).
/// `shown` gives the values to quote in messages.
void validate_settings(const Settings& settings, const Values& shown, Problems& problems,
                       std::vector<std::string>& warnings);

/// The kernel's choice of handlers (Settings::handler_choice), when the kernel gave it. Runs
/// after librdkafka's check, which tries a client only on an otherwise clean configuration.
void check_handler_choice(const Settings& settings, Problems& problems);

}  // namespace kernel::config_detail
