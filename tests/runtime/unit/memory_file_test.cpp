// The in-memory file that carries the client certificate chain to librdkafka.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "config/tls.hpp"

namespace memory_file_test {

using namespace kernel::config_detail;

TEST_CASE("memory file: holds the content at its path until its owner goes") {
  std::string path;
  {
    const auto file = make_memory_file("-----BEGIN CERTIFICATE-----\nabc\n");
    REQUIRE(file.owner);
    CHECK_FALSE(file.error);
    path = file.path;
    std::ifstream in(path);
    const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(content == "-----BEGIN CERTIFICATE-----\nabc\n");
  }
  // Closed with its owner: the descriptor's path no longer opens this file.
  std::ifstream again(path);
  const std::string after((std::istreambuf_iterator<char>(again)), std::istreambuf_iterator<char>());
  CHECK(after != "-----BEGIN CERTIFICATE-----\nabc\n");
}

}  // namespace memory_file_test
