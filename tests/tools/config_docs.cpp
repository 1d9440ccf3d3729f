// Prints the configuration reference rendered from the registry (docs/configuration.md).
#include <iostream>

#include "config/registry.hpp"  // kernel::config's own header (runtime/src)

int main() { std::cout << kernel::config_registry_markdown(); }
