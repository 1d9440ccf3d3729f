#pragma once
// What the HTTP server's tests share: a server on 127.0.0.1 with its state, metrics and log, and
// a raw TCP connection from a chosen loopback address (a client that sends what it likes).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include <httplib.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include "http/ops_server.hpp"

namespace ops_server_fixture {

struct Served {
  explicit Served(std::string token = "", std::chrono::milliseconds stall_after = std::chrono::seconds(60))
      : metrics(3) {
    kernel::detail::OpsServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.admin_token = std::move(token);
    options.group_id = "g1";
    options.stall_after = stall_after;
    server = std::make_unique<kernel::detail::OpsServer>(options, state, metrics,
                                                         std::make_shared<spdlog::logger>("t", log));
    server->start();
    client = std::make_unique<httplib::Client>("127.0.0.1", server->port());
    client->set_read_timeout(std::chrono::seconds(10));
  }
  /// The server's last lines of log, one string.
  std::string logged() const {
    std::string lines;
    for (const auto& line : log->last_formatted()) lines += line;
    return lines;
  }
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> log = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
  kernel::detail::OpsState state;
  kernel::detail::KernelMetrics metrics;
  std::unique_ptr<kernel::detail::OpsServer> server;
  std::unique_ptr<httplib::Client> client;
};

/// A TCP connection to 127.0.0.1:port from `source` (any of 127.0.0.0/8 is this host's on
/// Linux, so one process can be many clients), closed on destruction.
struct RawConnection {
  explicit RawConnection(int port, const char* source = "127.0.0.1")
      : fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, source, &from.sin_addr);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected = fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0 &&
                connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
  }
  ~RawConnection() {
    if (fd >= 0) close(fd);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  /// The server has closed it (end of stream or reset), without waiting.
  bool closed_by_server() const {
    char byte;
    const auto n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

  int fd;
  bool connected = false;
};

}  // namespace ops_server_fixture
