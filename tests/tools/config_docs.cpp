// Prints the configuration reference rendered from the registry (docs/configuration.md).
#include <iostream>

#include <kernel/config.hpp>

int main() { std::cout << kernel::config_registry_markdown(); }
