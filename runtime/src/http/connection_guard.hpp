#pragma once
// Who may hold the HTTP server's connections, and for how long (docs/operations.md, "Idle and
// slow clients"). A kubelet's probe must answer even while others hold every connection, so:
//
// - a request must arrive whole within request_timeout of the connection opening (or of the
//   previous answer on a kept-alive one): a client that sends nothing, or trickles bytes, is
//   closed then, however often it sends;
// - one client address holds at most per_address connections, the server at most capacity;
// - a new connection that finds its address or the server full closes the connection that has
//   waited longest for its request (of that address, or of all), instead of being refused.
//
// Why closing the longest waiting rather than a reserve for probes or a second port: a probe
// cannot be told from a flood until its request is read, so a reserve fills like the rest;
// a second port changes every manifest and needs the same limits. The connection that has
// waited longest is the least likely to be anyone's probe (a probe sends its request as it
// connects and is answered within milliseconds), so a new connection gets in whenever someone
// is merely waiting, closing that one costs a well-behaved client nothing, and memory stays
// bounded by capacity.
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>

#include <spdlog/logger.h>

struct sockaddr;

namespace kernel::detail {

/// Fixed limits, not settings: they bound what a client can take, and no well-behaved client
/// comes near them.
struct ConnectionLimits {
  /// Connections at once. Probes and scrapes need a handful; 256 x 16 KiB bounds the memory.
  std::size_t capacity = 256;
  /// Connections from one client address. A kubelet opens one per probe and a Prometheus one
  /// per scrape: 16 leaves room for several clients behind one address (a node's SNAT) while
  /// no one of them takes more than a sixteenth of the capacity.
  std::size_t per_address = 16;
  /// To send a whole request. Probes and scrapes send theirs as they connect (a kubelet gives
  /// up after 1 s by default); 5 s is generous for a slow link and drains a flood quickly.
  std::chrono::milliseconds request_timeout{5000};
};

/// A client's address; IPv4 as IPv4-mapped IPv6, so a dual-stack server counts a client once.
using ClientAddress = std::array<std::uint8_t, 16>;

/// The address of an AF_INET or AF_INET6 `address`; all zeros for anything else.
ClientAddress client_address_of(const sockaddr* address) noexcept;

/// One open connection, as the admission rule sees it.
struct OpenConnection {
  ClientAddress address{};
  /// Waiting for its request (just connected, between requests, or part-way through one)
  /// since `since`; a connection being answered is not waiting and is never closed for room.
  bool waiting = true;
  std::chrono::steady_clock::time_point since{};
};

/// What a new connection costs.
struct Admission {
  bool admitted = true;              ///< false: full, and no one waiting to make room: close it
  std::optional<std::size_t> close;  ///< index, in `open`, of the connection that makes room
};

/// The rule for a new connection from `address` while `open` are open (not counting it): it
/// fits; or its address has per_address open and that address's longest waiting makes room;
/// or the server has capacity open and the longest waiting of all makes room; or no one is
/// waiting where room is needed and the newcomer is refused.
Admission admission_of(std::span<const OpenConnection> open, const ClientAddress& address,
                       const ConnectionLimits& limits);

/// Carries out the limits for libmicrohttpd, which tells it what happens to each connection
/// (on its one thread). Closing is shutdown(): the socket stays libmicrohttpd's, which sees the
/// end of the stream and closes it, after telling closed() (a mutex keeps the two apart, so the
/// socket shut down is always still this connection's). Its own thread closes those whose
/// request is late, waking at the earliest deadline, and logs at most once a minute what it
/// closed, so a flood shows in the log without flooding it.
class ConnectionGuard {
 public:
  struct Connection;  // one connection's state: libmicrohttpd's socket context

  ConnectionGuard(ConnectionLimits limits, std::shared_ptr<spdlog::logger> logger);
  ~ConnectionGuard();
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;

  /// Accepted on socket `fd` from `address`: makes room as the rule says, closing another
  /// connection or this one. The handle lives until closed().
  Connection* opened(int fd, const sockaddr* address);
  /// Its request has arrived whole: it is being answered.
  void request_arrived(Connection* connection);
  /// Its answer has gone out: it waits for the next request (keep-alive).
  void answered(Connection* connection);
  /// libmicrohttpd is about to close its socket.
  void closed(Connection* connection);

 private:
  void run();
  void close(Connection& connection);
  /// Plans a report: after a burst has been counted, and a minute after the last.
  void report_soon(std::chrono::steady_clock::time_point now);
  /// One warning for what was closed since the last, then the counts start again.
  void report();
  void wake_by(std::chrono::steady_clock::time_point when);

  ConnectionLimits limits_;
  std::shared_ptr<spdlog::logger> log_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::list<Connection> connections_;  // open and closing; a list, so handles stay put
  std::chrono::steady_clock::time_point wakes_at_;
  std::chrono::steady_clock::time_point report_at_;
  std::chrono::steady_clock::time_point reported_at_;
  std::size_t closed_late_ = 0;      ///< never sent a whole request in time (since the last report)
  std::size_t closed_for_room_ = 0;  ///< closed to make room for a new connection
  std::size_t refused_ = 0;          ///< new connections closed: full, no one waiting
  bool stopping_ = false;
  std::thread thread_;  // last: started once the rest exists
};

}  // namespace kernel::detail
