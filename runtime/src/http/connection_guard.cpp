#include "http/connection_guard.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace kernel::detail {

namespace {

using Clock = std::chrono::steady_clock;

/// What the log says of closed connections comes at most this often.
constexpr std::chrono::minutes report_every{1};
/// A burst is counted for this long before its first report.
constexpr std::chrono::seconds report_after{1};

}  // namespace

struct ConnectionGuard::Connection {
  OpenConnection open;
  int fd = -1;
  bool closing = false;   ///< shut down; libmicrohttpd has yet to close it
  bool answered = false;  ///< had a request answered: closing it idle afterwards is housekeeping
  std::list<Connection>::iterator self;
};

ClientAddress client_address_of(const sockaddr* address) noexcept {
  ClientAddress out{};
  if (!address) return out;
  if (address->sa_family == AF_INET) {
    out[10] = out[11] = 0xff;  // ::ffff:a.b.c.d
    std::memcpy(out.data() + 12, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, 4);
  } else if (address->sa_family == AF_INET6) {
    std::memcpy(out.data(), &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, out.size());
  }
  return out;
}

Admission admission_of(std::span<const OpenConnection> open, const ClientAddress& address,
                       const ConnectionLimits& limits) {
  const auto same = std::count_if(open.begin(), open.end(), [&](const auto& c) { return c.address == address; });
  const bool address_full = static_cast<std::size_t>(same) >= limits.per_address;
  if (!address_full && open.size() < limits.capacity) return {};
  std::optional<std::size_t> longest;
  for (std::size_t i = 0; i < open.size(); ++i) {
    const auto& candidate = open[i];
    if (!candidate.waiting || (address_full && candidate.address != address)) continue;
    if (!longest || candidate.since < open[*longest].since) longest = i;
  }
  if (!longest) return {false, std::nullopt};
  return {true, longest};
}

ConnectionGuard::ConnectionGuard(ConnectionLimits limits, std::shared_ptr<spdlog::logger> logger)
    : limits_(limits),
      log_(std::move(logger)),
      wakes_at_(Clock::time_point::max()),
      report_at_(Clock::time_point::max()),
      reported_at_(Clock::time_point::min()),
      thread_([this] { run(); }) {}

ConnectionGuard::~ConnectionGuard() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

ConnectionGuard::Connection* ConnectionGuard::opened(int fd, const sockaddr* address) {
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  std::vector<OpenConnection> open;
  std::vector<Connection*> whose;
  open.reserve(connections_.size());
  whose.reserve(connections_.size());
  for (auto& c : connections_) {
    if (c.closing) continue;
    open.push_back(c.open);
    whose.push_back(&c);
  }
  auto& added = connections_.emplace_back();
  added.self = std::prev(connections_.end());
  added.fd = fd;
  added.open = {client_address_of(address), true, now};
  const auto admission = admission_of(open, added.open.address, limits_);
  if (admission.close) {
    close(*whose[*admission.close]);
    ++closed_for_room_;
  }
  if (!admission.admitted) {
    close(added);
    ++refused_;
  }
  if (admission.close || !admission.admitted) report_soon(now);
  wake_by(now + limits_.request_timeout);
  return &added;
}

void ConnectionGuard::request_arrived(Connection* connection) {
  if (!connection) return;
  std::lock_guard lock(mutex_);
  connection->open.waiting = false;
}

void ConnectionGuard::answered(Connection* connection) {
  if (!connection) return;
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  connection->open = {connection->open.address, true, now};
  connection->answered = true;
  wake_by(now + limits_.request_timeout);
}

void ConnectionGuard::closed(Connection* connection) {
  if (!connection) return;
  std::lock_guard lock(mutex_);
  connections_.erase(connection->self);
}

void ConnectionGuard::close(Connection& connection) {
  // libmicrohttpd sees the end of the stream on its next turn and closes the socket itself.
  ::shutdown(connection.fd, SHUT_RDWR);
  connection.closing = true;
}

void ConnectionGuard::wake_by(Clock::time_point when) {
  if (when >= wakes_at_) return;
  wakes_at_ = when;
  changed_.notify_one();
}

void ConnectionGuard::report_soon(Clock::time_point now) {
  if (report_at_ != Clock::time_point::max()) return;  // one is due already
  report_at_ = std::max(now + report_after, reported_at_ + report_every);
  wake_by(report_at_);
}

void ConnectionGuard::report() {
  std::string what;
  auto add = [&](std::size_t count, const std::string& why) {
    if (count) what += fmt::format("{}{} {}", what.empty() ? "" : ", ", count, why);
  };
  add(closed_for_room_, "connection(s) to make room for new ones");
  add(closed_late_,
      fmt::format("connection(s) that sent no whole request within {} ms", limits_.request_timeout.count()));
  add(refused_, "new connection(s) with no room");
  log_->warn("http: closed {} (at most {} connections at once, {} per client address)", what, limits_.capacity,
             limits_.per_address);
  closed_late_ = closed_for_room_ = refused_ = 0;
}

void ConnectionGuard::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto now = Clock::now();
    auto next = Clock::time_point::max();
    for (auto& c : connections_) {
      if (c.closing || !c.open.waiting) continue;
      const auto deadline = c.open.since + limits_.request_timeout;
      if (deadline > now) {
        next = std::min(next, deadline);
        continue;
      }
      if (!c.answered) ++closed_late_;
      close(c);
    }
    if (closed_late_) report_soon(now);
    if (report_at_ <= now) {
      report();
      reported_at_ = now;
      report_at_ = Clock::time_point::max();
    }
    wakes_at_ = std::min(next, report_at_);
    if (wakes_at_ == Clock::time_point::max()) {
      changed_.wait(lock);
    } else {
      changed_.wait_until(lock, wakes_at_);
    }
  }
}

}  // namespace kernel::detail
