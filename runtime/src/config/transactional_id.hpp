#pragma once
// The producer's transactional.id under exactly_once (docs/exactly-once.md), which start-up
// registers and the configuration checks with librdkafka.
#include <string>

#include "kernel/config.hpp"

namespace kernel {

/// The producer's transactional.id under KERNEL_DELIVERY=exactly_once: KERNEL_TRANSACTIONAL_ID,
/// else `<group>.<inputs>.<instance id>`, where `<inputs>` is the sorted input topics joined by
/// `+` (the first 16 hex digits of their SHA-256 when that is longer than 100 characters) and
/// the instance id is KERNEL_INSTANCE_ID or this host's name.
std::string transactional_id(const Settings& settings);

}  // namespace kernel
