// The HTTP server against idle and slow clients (docs/operations.md): /healthz and /readyz
// answer while a thousand connections are held open, one client address holds a bounded share
// of the connections, and a request that has not arrived in time is cut off. The clients come
// from many addresses of 127.0.0.0/8, which tells the per-address limit from the capacity.
#include <doctest/doctest.h>

#include <poll.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "../integration/wait.hpp"
#include "ops_server_fixture.hpp"

namespace ops_server_slow_clients_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using kernel::detail::Phase;
using ops_server_fixture::RawConnection;
using ops_server_fixture::Served;
using Clients = std::vector<std::unique_ptr<RawConnection>>;

// What docs/operations.md promises.
constexpr std::size_t capacity = 256;    // connections at once
constexpr std::size_t per_address = 16;  // of them from one client address
constexpr auto request_timeout = 5s;     // to send a whole request

namespace {

/// Raises the soft limit on open descriptors to `wanted` if it is lower: a thousand clients and
/// the server's side of them share this process.
bool allow_descriptors(rlim_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  if (limit.rlim_cur >= wanted) return true;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < wanted) return false;
  limit.rlim_cur = wanted;
  return setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

struct Answer {
  int status = 0;  ///< 0: no answer within the probe's timeout
  std::chrono::milliseconds took{};
};

/// A probe as a kubelet makes it: a new connection from `source`, one GET, and an answer within
/// 1 s (its default timeoutSeconds), connecting included.
Answer probe(int port, const std::string& path, const char* source = "127.0.0.1") {
  const auto started = Clock::now();
  const auto deadline = started + 1s;
  RawConnection connection(port, source);
  if (!connection.connected) return {};
  const auto request = "GET " + path + " HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n";
  if (send(connection.fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    return {};
  }
  std::string response;  // "HTTP/1.1 200 OK\r\n..."
  while (response.find("\r\n") == std::string::npos) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd readable{connection.fd, POLLIN, 0};
    if (left <= 0 || poll(&readable, 1, static_cast<int>(left)) != 1) return {};
    char buffer[512];
    const auto n = recv(connection.fd, buffer, sizeof buffer, 0);
    if (n <= 0) return {};
    response.append(buffer, static_cast<std::size_t>(n));
  }
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return {};
  return {std::stoi(response.substr(9, 3)),
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started)};
}

std::size_t closed_by_server(const Clients& clients) {
  return static_cast<std::size_t>(
      std::count_if(clients.begin(), clients.end(), [](const auto& c) { return c->closed_by_server(); }));
}

/// Sends `request` one byte per `pace` to every client, never the whole of it while it runs:
/// bytes keep coming, so only a deadline on the whole request stops such a client.
class Trickle {
 public:
  Trickle(const Clients& clients, std::chrono::milliseconds pace)
      : thread_([this, &clients, pace] {
          static const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(200, 'a');
          std::unique_lock lock(mutex_);
          for (std::size_t i = 0; i < request.size(); ++i) {
            for (const auto& client : clients) (void)send(client->fd, &request[i], 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (stop_.wait_for(lock, pace, [this] { return done_; })) return;
          }
        }) {}
  ~Trickle() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    stop_.notify_all();
    thread_.join();
  }
  Trickle(const Trickle&) = delete;
  Trickle& operator=(const Trickle&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable stop_;
  bool done_ = false;
  std::thread thread_;  // last: started once the rest exists
};

}  // namespace

TEST_CASE("one client address holds at most 16 connections: a new one closes that address's longest waiting") {
  Served served;
  served.state.set_phase(Phase::ready);
  const int port = served.server->port();
  Clients greedy, other;
  for (int i = 0; i < 40; ++i) {
    greedy.push_back(std::make_unique<RawConnection>(port, "127.0.0.2"));
    REQUIRE(greedy.back()->connected);
  }
  for (std::size_t i = 0; i < per_address; ++i) {
    other.push_back(std::make_unique<RawConnection>(port, "127.0.0.3"));
    REQUIRE(other.back()->connected);
  }
  const auto over = greedy.size() - per_address;
  CHECK(testwait::wait_until([&] { return closed_by_server(greedy) >= over; }, 2000ms));
  for (std::size_t i = 0; i < greedy.size(); ++i) {
    CAPTURE(i);
    CHECK(greedy[i]->closed_by_server() == (i < over));  // the oldest went
  }
  CHECK(closed_by_server(other) == 0);

  // A probe from the greedy address still gets in: it takes the place of that address's
  // longest waiting connection.
  const auto answer = probe(port, "/healthz", "127.0.0.2");
  CHECK(answer.status == 200);
  CHECK(answer.took < 1s);
  CHECK(testwait::wait_until([&] { return greedy[over]->closed_by_server(); }, 1000ms));
  CHECK(closed_by_server(other) == 0);
}

TEST_CASE("healthz, readyz and metrics answer within 1 s while 1,000 idle or trickling clients hold connections") {
  constexpr std::size_t flood = 1000;
  constexpr std::size_t addresses = 100;        // 10 each, under the per-address limit: the capacity is what is tested
  REQUIRE(allow_descriptors(2 * flood + 512));  // both ends of every connection live in this process
  Served served;
  served.state.set_phase(Phase::ready);
  const int port = served.server->port();

  Clients idle, trickling;  // one in five trickles a request that never ends
  for (std::size_t i = 0; i < flood; ++i) {
    const auto source = "127.0.1." + std::to_string(1 + i % addresses);
    auto& group = i % 5 == 0 ? trickling : idle;
    group.push_back(std::make_unique<RawConnection>(port, source.c_str()));
    REQUIRE(group.back()->connected);
  }
  const auto flooded_at = Clock::now();
  Trickle trickle(trickling, 200ms);
  auto held = [&] { return flood - closed_by_server(idle) - closed_by_server(trickling); };

  // The server keeps what its capacity allows; the longest waiting made room for the rest.
  CHECK(testwait::wait_until([&] { return held() <= capacity; }, 3000ms));
  const auto held_before = held();
  CHECK(held_before > capacity / 2);

  std::chrono::milliseconds slowest{};
  for (int round = 0; round < 5; ++round) {
    for (const std::string path : {"/healthz", "/readyz", "/metrics"}) {
      CAPTURE(path);
      const auto answer = probe(port, path);
      CHECK(answer.status == 200);
      CHECK(answer.took < 1s);
      slowest = std::max(slowest, answer.took);
    }
  }
  const auto held_after = held();
  CHECK(held_after > capacity / 2);  // the probes answered while the flood was held
  MESSAGE("held " << held_before << " then " << held_after << " of " << flood << "; slowest probe " << slowest.count()
                  << " ms");

  // Neither the silent nor the trickling survive the request timeout.
  CHECK(testwait::wait_until([&] { return held() == 0; }, request_timeout + 2000ms));
  const auto cut_after = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - flooded_at);
  CHECK(cut_after < request_timeout + 1s);
  MESSAGE("all cut " << cut_after.count() << " ms after the flood");
  // A flood shows in the log as one warning, not a line per connection.
  auto warnings = [&] {
    const auto log = served.logged();
    std::size_t count = 0;
    for (auto at = log.find("http: closed"); at != std::string::npos; at = log.find("http: closed", at + 1)) ++count;
    return count;
  };
  CHECK(testwait::wait_until([&] { return warnings() > 0; }, 2000ms));
  CHECK(warnings() == 1);
  CHECK(served.logged().find("connection(s) to make room for new ones") != std::string::npos);
  const auto metrics = served.client->Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
}

}  // namespace ops_server_slow_clients_test
