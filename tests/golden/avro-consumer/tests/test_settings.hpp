#pragma once
/// Placeholder values for the settings the kernel requires (declared without a default in
/// src/kernel_spec.cpp), so that its tests can run it; never real values. new-kernel add and
/// remove (setting) rewrite this file.
#include <string_view>

#include <kernel/config.hpp>

namespace order_auditor {

/// As variables of kernel `name` (the integration test runs it under a name of its own).
inline kernel::Environment test_settings([[maybe_unused]] std::string_view name = "order-auditor") {
  return {
  };
}

}  // namespace order_auditor
