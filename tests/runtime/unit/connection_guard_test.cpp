// The rule that decides what a new HTTP connection costs (http/connection_guard.hpp): it fits,
// or the longest waiting of its address, or of all, makes room, or it is refused. The rule
// carried out on real sockets: ops_server_slow_clients_test.cpp.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <chrono>
#include <optional>
#include <vector>

#include "http/connection_guard.hpp"

namespace connection_guard_test {

using namespace std::chrono_literals;
using kernel::detail::admission_of;
using kernel::detail::client_address_of;
using kernel::detail::ClientAddress;
using kernel::detail::ConnectionLimits;
using kernel::detail::OpenConnection;

namespace {

ClientAddress v4(const char* text) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  inet_pton(AF_INET, text, &address.sin_addr);
  return client_address_of(reinterpret_cast<const sockaddr*>(&address));
}

const auto t0 = std::chrono::steady_clock::now();
const auto a = v4("10.0.0.1");
const auto b = v4("10.0.0.2");
const auto c = v4("10.0.0.3");

OpenConnection waiting(ClientAddress address, int since_s) {
  return {address, true, t0 + std::chrono::seconds(since_s)};
}
OpenConnection answering(ClientAddress address, int since_s) {
  return {address, false, t0 + std::chrono::seconds(since_s)};
}

}  // namespace

TEST_CASE("a new connection: it fits, or the longest waiting of its address or of all makes room, or it is refused") {
  const ConnectionLimits limits{4, 2, 5s};  // capacity 4, 2 per address
  struct Case {
    const char* what;
    std::vector<OpenConnection> open;
    ClientAddress from;
    bool admitted;
    std::optional<std::size_t> close;
  };
  const Case cases[] = {
      {"room everywhere", {waiting(a, 1), waiting(b, 0)}, c, true, std::nullopt},
      {"room for its address too", {waiting(a, 1), waiting(b, 0)}, a, true, std::nullopt},
      {"its address full: its own longest waiting, not another's older",
       {waiting(b, 0), waiting(a, 2), waiting(a, 1)},
       a,
       true,
       2},
      {"its address full and all of it answered: refused",
       {waiting(b, 0), answering(a, 1), answering(a, 2)},
       a,
       false,
       std::nullopt},
      {"server full: the longest waiting of all",
       {waiting(a, 3), waiting(b, 1), waiting(c, 2), waiting(b, 4)},
       c,
       true,
       1},
      {"server full: one being answered is passed over, however old",
       {answering(a, 0), waiting(b, 3), waiting(c, 2), waiting(b, 4)},
       a,
       true,
       2},
      {"server full and every one answered: refused",
       {answering(a, 0), answering(b, 1), answering(c, 2), answering(b, 3)},
       c,
       false,
       std::nullopt},
  };
  for (const auto& test : cases) {
    CAPTURE(test.what);
    const auto admission = admission_of(test.open, test.from, limits);
    CHECK(admission.admitted == test.admitted);
    CHECK(admission.close == test.close);
  }
}

TEST_CASE("an IPv4 client is the same client seen through a dual-stack socket") {
  sockaddr_in6 mapped{};
  mapped.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:10.0.0.1", &mapped.sin6_addr);
  CHECK(client_address_of(reinterpret_cast<const sockaddr*>(&mapped)) == a);
  CHECK(a != b);
}

}  // namespace connection_guard_test
