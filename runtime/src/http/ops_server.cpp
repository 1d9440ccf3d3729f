#include "http/ops_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include <httplib.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <nlohmann/json.hpp>

#include "core/rfc3339.hpp"

namespace kernel::detail {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

/// Admin requests carry no body; a client sending more than this is disconnected.
constexpr std::size_t max_body_bytes = std::size_t{64} * 1024;
/// Request line and headers must fit in a connection's memory pool: larger requests get 431.
constexpr std::size_t connection_memory = std::size_t{16} * 1024;
/// libmicrohttpd's own limit sits this far above ConnectionLimits::capacity: connections the
/// guard has closed count there until its thread reaps them, on its next turn (it accepts at
/// most about ten at a time). Reaching it only pauses accepting until then.
constexpr std::size_t closing_headroom = 64;

ConnectionGuard::Connection* guarded(MHD_Connection* connection) {
  const auto* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return info ? static_cast<ConnectionGuard::Connection*>(info->socket_context) : nullptr;
}

/// errno's text; std::strerror may share its buffer between threads.
std::string errno_text(int error) { return std::generic_category().message(error); }

MHD_Result reply(MHD_Connection* connection, unsigned int status, const std::string& body,
                 const char* content_type = "application/json",
                 std::initializer_list<std::pair<const char*, const char*>> headers = {}) {
  MHD_Response* response =
      MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()), MHD_RESPMEM_MUST_COPY);
  if (!response) return MHD_NO;
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  for (const auto& [name, value] : headers) MHD_add_response_header(response, name, value);
  const auto queued = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);  // queued responses are reference-counted by the connection
  return queued;
}

MHD_Result reply(MHD_Connection* connection, unsigned int status, const json& body,
                 std::initializer_list<std::pair<const char*, const char*>> headers = {}) {
  return reply(connection, status, body.dump(), "application/json", headers);
}

/// SHA-256 of both sides, compared with CRYPTO_memcmp: the time taken says nothing about the
/// token, not even its length.
bool token_matches(std::string_view given, std::string_view expected) {
  unsigned char a[EVP_MAX_MD_SIZE], b[EVP_MAX_MD_SIZE];
  unsigned int a_len = 0, b_len = 0;
  if (!EVP_Digest(given.data(), given.size(), a, &a_len, EVP_sha256(), nullptr) ||
      !EVP_Digest(expected.data(), expected.size(), b, &b_len, EVP_sha256(), nullptr) || a_len != b_len) {
    return false;
  }
  return CRYPTO_memcmp(a, b, a_len) == 0;
}

json pause_reasons(PauseReasons paused) {
  json reasons = json::array();
  for (const auto reason : all_pause_reasons) {
    if (paused.has(reason)) reasons.push_back(to_string(reason));
  }
  return reasons;
}

std::string_view phase_name(Phase phase) {
  switch (phase) {
    case Phase::starting: return "starting";
    case Phase::ready: return "ready";
    case Phase::rejoining: return "rejoining";
    case Phase::stopping: return "stopping";
  }
  return "starting";
}

std::string client_address(MHD_Connection* connection) {
  const auto* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (!info || !info->client_addr) return "?";
  char text[INET6_ADDRSTRLEN] = "?";
  const auto* address = info->client_addr;
  if (address->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, text, sizeof text);
  } else if (address->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, text, sizeof text);
  }
  return text;
}

std::string format_seconds(Clock::duration duration) {
  const auto tenths = std::chrono::duration_cast<std::chrono::milliseconds>(duration).count() / 100;
  return std::to_string(tenths / 10) + (tenths % 10 ? "." + std::to_string(tenths % 10) : "") + "s";
}

enum class Endpoint { none, healthz, readyz, metrics, status, pause, resume };

Endpoint endpoint_of(std::string_view path) {
  if (path == "/healthz") return Endpoint::healthz;
  if (path == "/readyz") return Endpoint::readyz;
  if (path == "/metrics") return Endpoint::metrics;
  if (path == "/admin/status") return Endpoint::status;
  if (path == "/admin/pause") return Endpoint::pause;
  if (path == "/admin/resume") return Endpoint::resume;
  return Endpoint::none;
}

/// A listening TCP socket on host:port with SO_REUSEADDR only (SO_REUSEPORT would let a
/// second kernel bind the same port instead of failing). Returns the socket and the bound port.
std::pair<int, int> listen_on(const std::string& host, int port) {
  sockaddr_storage address{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    length = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    length = sizeof *v6;
  } else {
    throw PortUnavailable("KERNEL_HTTP_ADDRESS=\"" + host + "\" is not an IP address; use e.g. 0.0.0.0 or 127.0.0.1");
  }
  const auto where = (address.ss_family == AF_INET6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  const int fd = socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw PortUnavailable("cannot open a socket for " + where + ": " + errno_text(errno));
  int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  if (address.ss_family == AF_INET6) {
    int no = 0;  // "::" takes IPv4 connections too
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof no);
  }
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0 || listen(fd, SOMAXCONN) != 0) {
    const int error = errno;
    close(fd);
    if (error == EADDRNOTAVAIL) {
      throw PortUnavailable("cannot listen on " + where + " for health, metrics and admin: " + errno_text(error) +
                            "; set KERNEL_HTTP_ADDRESS to an address of this host, or 0.0.0.0 for all");
    }
    throw PortUnavailable("cannot listen on " + where + " for health, metrics and admin (" + errno_text(error) +
                          "); set KERNEL_HTTP_PORT to a free port, 0 for any, or off");
  }
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length);
  const int bound_port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                           : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return {fd, bound_port};
}

}  // namespace

void StopDaemon::operator()(MHD_Daemon* daemon) const noexcept { MHD_stop_daemon(daemon); }

struct OpsServer::Request {
  std::size_t body_bytes = 0;
  bool waiting = false;  ///< an admin request suspended until the loop applies it
  bool applied = false;  ///< set by AdminWaits before it resumes the request
};

/// Admin requests suspended until the loop acknowledges them (or admin_wait passes). One
/// thread waits for all of them, so the server's own thread never blocks.
class OpsServer::AdminWaits {
 public:
  AdminWaits(OpsState& state, std::chrono::milliseconds wait)
      : state_(state), wait_(wait), thread_([this] { run(); }) {}
  ~AdminWaits() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  AdminWaits(const AdminWaits&) = delete;
  AdminWaits& operator=(const AdminWaits&) = delete;

  /// Server thread, after MHD_suspend_connection().
  void add(MHD_Connection* connection, Request& request, std::uint64_t generation) {
    {
      std::lock_guard lock(mutex_);
      waiting_.push_back({connection, &request, generation, Clock::now() + wait_});
      ++suspended_;
    }
    changed_.notify_all();
  }
  /// Server thread: a resumed request was answered.
  void answered() {
    {
      std::lock_guard lock(mutex_);
      --suspended_;
    }
    changed_.notify_all();
  }
  /// Answers every waiting request now (not applied) and waits, briefly, until the server has
  /// answered them: libmicrohttpd must not be stopped with suspended connections.
  void release_all(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    releasing_ = true;
    changed_.notify_all();
    changed_.wait_for(lock, timeout, [&] { return suspended_ == 0; });
  }

 private:
  struct Waiting {
    MHD_Connection* connection;
    Request* request;
    std::uint64_t generation;
    Clock::time_point deadline;
  };

  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      changed_.wait(lock, [&] { return stopping_ || releasing_ || !waiting_.empty(); });
      if (waiting_.empty()) {
        if (stopping_) return;
        if (releasing_) {
          changed_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
          continue;
        }
      }
      std::uint64_t newest = 0;
      auto earliest = Clock::time_point::max();
      for (const auto& w : waiting_) {
        newest = std::max(newest, w.generation);
        earliest = std::min(earliest, w.deadline);
      }
      const bool releasing = releasing_;
      lock.unlock();
      // Woken by the loop's acknowledgement; the cap keeps new arrivals and shutdown prompt.
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(earliest - Clock::now());
      if (!releasing)
        state_.wait_applied(newest, std::clamp(left, std::chrono::milliseconds(0), std::chrono::milliseconds(100)));
      const auto applied = state_.applied_generation();
      lock.lock();
      const auto now = Clock::now();
      std::erase_if(waiting_, [&](const Waiting& w) {
        if (applied < w.generation && now < w.deadline && !releasing_ && !stopping_) return false;
        w.request->applied = applied >= w.generation;
        MHD_resume_connection(w.connection);  // the server answers it on its own thread
        return true;
      });
    }
  }

  OpsState& state_;
  std::chrono::milliseconds wait_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Waiting> waiting_;
  int suspended_ = 0;
  bool stopping_ = false;
  bool releasing_ = false;
  std::thread thread_;  // last: started once the rest exists
};

OpsServer::OpsServer(OpsServerOptions options, OpsState& state, KernelMetrics& metrics,
                     std::shared_ptr<spdlog::logger> logger)
    : options_(std::move(options)), state_(state), metrics_(metrics), log_(std::move(logger)) {}

OpsServer::~OpsServer() {
  if (waits_) waits_->release_all(std::chrono::seconds(1));
  daemon_.reset();  // before waits_: nothing resumes a connection of a stopped daemon
  waits_.reset();
}

void OpsServer::start() {
  const auto [socket, port] = listen_on(options_.host, options_.port);
  waits_ = std::make_unique<AdminWaits>(state_, options_.admin_wait);
  guard_ = std::make_unique<ConnectionGuard>(options_.connections, log_);

  auto on_request = [](void* self, MHD_Connection* connection, const char* url, const char* method,
                       const char* /*version*/, const char* /*upload_data*/, std::size_t* upload_data_size,
                       void** request_state) -> MHD_Result {
    if (!*request_state) {  // headers only so far
      *request_state = new Request;
      return MHD_YES;
    }
    auto& request = *static_cast<Request*>(*request_state);
    if (*upload_data_size != 0) {  // a body: nothing here reads one, but it must be consumed
      request.body_bytes += *upload_data_size;
      *upload_data_size = 0;
      // libmicrohttpd cannot answer in the middle of a body: a client sending more is cut off.
      return request.body_bytes > max_body_bytes ? MHD_NO : MHD_YES;
    }
    auto& server = *static_cast<OpsServer*>(self);
    server.guard_->request_arrived(guarded(connection));  // whole: no deadline while it is answered
    return static_cast<MHD_Result>(server.serve(connection, request, url, method));
  };
  auto on_completed = [](void* self, MHD_Connection* connection, void** request_state, MHD_RequestTerminationCode) {
    delete static_cast<Request*>(*request_state);
    *request_state = nullptr;
    static_cast<OpsServer*>(self)->guard_->answered(guarded(connection));
  };
  auto on_connection = [](void* self, MHD_Connection* connection, void** socket_context,
                          MHD_ConnectionNotificationCode code) {
    auto& guard = *static_cast<OpsServer*>(self)->guard_;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
      const auto* fd = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
      const auto* address = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
      if (fd) *socket_context = guard.opened(fd->connect_fd, address ? address->client_addr : nullptr);
    } else {
      guard.closed(static_cast<ConnectionGuard::Connection*>(*socket_context));
      *socket_context = nullptr;
    }
  };
  auto on_log = [](void* self, const char* format, va_list arguments) {
    char text[512];
    std::vsnprintf(text, sizeof text, format, arguments);
    std::string_view line(text);
    while (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    static_cast<OpsServer*>(self)->log_->debug("http: {}", line);
  };

  const bool v6 = options_.host.find(':') != std::string::npos;
  daemon_.reset(MHD_start_daemon(
      MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0), 0,
      nullptr, nullptr, +on_request, this, MHD_OPTION_EXTERNAL_LOGGER, +on_log, this, MHD_OPTION_LISTEN_SOCKET, socket,
      MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned int>(options_.connections.capacity + closing_headroom),
      MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned int>(options_.idle_timeout.count()),
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, connection_memory, MHD_OPTION_NOTIFY_COMPLETED, +on_completed, this,
      MHD_OPTION_NOTIFY_CONNECTION, +on_connection, this, MHD_OPTION_END));
  if (!daemon_) {
    close(socket);
    throw PortUnavailable("cannot start the HTTP server on " + options_.host + ":" + std::to_string(port) +
                          "; set KERNEL_HTTP_PORT to off to run without it");
  }
  port_ = port;
  log_->info("health, metrics and admin on http://{}:{} (/healthz, /readyz, /metrics, /admin/status){}",
             v6 ? "[" + options_.host + "]" : options_.host, port_,
             options_.admin_token.empty() ? "; admin pause/resume off: KERNEL_ADMIN_TOKEN is unset" : "");
}

int OpsServer::serve(MHD_Connection* connection, Request& request, std::string_view path, std::string_view method) try {
  if (request.waiting) {  // an admin request, resumed by AdminWaits
    request.waiting = false;
    waits_->answered();
    return reply(
        connection, request.applied ? MHD_HTTP_OK : MHD_HTTP_ACCEPTED,
        json{{"operator_paused", state_.operator_pause_wanted()},
             {"applied", request.applied},
             {"note", request.applied ? "applied" : "requested; the loop applies it after the current handler call"}});
  }
  const auto endpoint = endpoint_of(path);
  if (endpoint == Endpoint::none) {
    return reply(connection, MHD_HTTP_NOT_FOUND, json{{"error", "not found"}, {"path", path.substr(0, 200)}}, {});
  }
  const bool mutating = endpoint == Endpoint::pause || endpoint == Endpoint::resume;
  const bool allowed = mutating ? method == "POST" : (method == "GET" || method == "HEAD");
  if (!allowed) {
    const char* allow = mutating ? "POST" : "GET, HEAD";
    return reply(connection, MHD_HTTP_METHOD_NOT_ALLOWED,
                 json{{"error", std::string("method not allowed; use ") + allow}}, {{"Allow", allow}});
  }
  switch (endpoint) {
    case Endpoint::healthz: {
      const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(state_.since_heartbeat());
      if (const auto stuck = state_.stuck_call(Clock::now())) {
        // A handler call that never returns: only a restart frees the thread.
        const auto running = std::chrono::duration_cast<std::chrono::milliseconds>(stuck->running);
        if (stuck->first_report) {
          log_->error(
              "handler stuck on {} for {} ms (past 3x KERNEL_HANDLER_TIMEOUT): /healthz fails until it "
              "returns",
              stuck->what, running.count());
        }
        return reply(connection, MHD_HTTP_SERVICE_UNAVAILABLE,
                     json{{"status", "stuck"},
                          {"handler_stuck_on", stuck->what},
                          {"running_ms", running.count()},
                          {"last_poll_ms_ago", since.count()}});
      }
      const bool alive = since < options_.stall_after;
      auto body = json{{"status", alive ? "alive" : "stalled"},
                       {"last_poll_ms_ago", since.count()},
                       {"stalled_after_ms", options_.stall_after.count()}};
      // Said here, but not a liveness failure: a restart would meet the same refusal and redo
      // every partition's uncommitted work. /readyz fails instead.
      if (auto blocked = state_.status().dead_letter_blocked; !blocked.empty()) body["dead_letter_blocked"] = blocked;
      return reply(connection, alive ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, body);
    }
    case Endpoint::readyz: return readiness(connection);
    case Endpoint::metrics:
      // Decided as /readyz decides it, at the moment of the scrape.
      metrics_.ready().Set(not_ready_reason().empty() ? 1 : 0);
      return reply(connection, MHD_HTTP_OK, metrics_.serialize(), "text/plain; version=0.0.4; charset=utf-8");
    case Endpoint::status: return status(connection);
    case Endpoint::pause: return admin(connection, request, true);
    case Endpoint::resume: return admin(connection, request, false);
    case Endpoint::none: break;
  }
  return MHD_NO;
} catch (const std::exception& e) {
  log_->error("HTTP {} {}: {}", method, path.substr(0, 200), e.what());
  return reply(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, json{{"error", "internal error"}});
}

std::string OpsServer::not_ready_reason() {
  switch (state_.phase()) {
    case Phase::starting: return "starting: not yet a member of group " + options_.group_id;
    case Phase::rejoining: return "lost its membership of group " + options_.group_id + "; rejoining";
    case Phase::stopping: return "shutting down";
    case Phase::ready: break;
  }
  // librdkafka keeps the assignment while no broker answers; past the session timeout the
  // group has given this member up, whatever the consumer still believes.
  const auto down = state_.brokers_down_for();
  if (down > options_.session_timeout) {
    return "no connection to any broker for " + format_seconds(down) + " (session timeout " +
           format_seconds(options_.session_timeout) + "): no longer a member of group " + options_.group_id;
  }
  // A dead letter the broker refuses for good holds its partition until an operator acts.
  if (auto blocked = state_.status().dead_letter_blocked; !blocked.empty()) return "dead_letter_blocked: " + blocked;
  return {};
}

int OpsServer::readiness(MHD_Connection* connection) {
  if (const auto reason = not_ready_reason(); !reason.empty()) {
    return reply(connection, MHD_HTTP_SERVICE_UNAVAILABLE, json{{"ready", false}, {"reason", reason}});
  }
  return reply(connection, MHD_HTTP_OK, json{{"ready", true}, {"reason", "member of group " + options_.group_id}});
}

namespace {

/// /admin/status's `circuit`: null when the breaker is off, else its state and, while open,
/// when the probe goes; `opens_after` says how many more consecutive failures open it.
nlohmann::json circuit(const StatusSnapshot& snapshot) {
  if (snapshot.circuit.empty()) return nullptr;
  auto at = [](std::int64_t ms) { return ms > 0 ? nlohmann::json(format_rfc3339(ms)) : nlohmann::json(nullptr); };
  return {{"state", snapshot.circuit},
          {"opened_at", at(snapshot.circuit_opened_at_ms)},
          {"probe_at", snapshot.circuit == "open" ? at(snapshot.circuit_probe_at_ms) : nlohmann::json(nullptr)},
          {"consecutive_failures", snapshot.circuit_consecutive_failures}};
}

/// /admin/status's `last_failure`: null until an attempt fails.
nlohmann::json last_failure(const FailureRecord& failure) {
  if (failure.at_ms == 0) return nullptr;
  return {{"topic", failure.topic},       {"partition", failure.partition}, {"offset", failure.offset},
          {"class", failure.error_class}, {"reason", failure.reason},       {"at", format_rfc3339(failure.at_ms)},
          {"trace_id", failure.trace_id}};
}

}  // namespace

int OpsServer::status(MHD_Connection* connection) {
  const auto snapshot = state_.status();
  json partitions = json::array();
  for (const auto& p : snapshot.partitions) {
    auto optional = [](std::int64_t value) { return value < 0 ? json(nullptr) : json(value); };
    partitions.push_back({{"topic", p.topic},
                          {"partition", p.partition},
                          {"position", optional(p.position)},
                          {"committed", optional(p.committed)},
                          {"low_watermark", optional(p.low_watermark)},
                          {"high_watermark", optional(p.high_watermark)},
                          {"lag", optional(p.lag)},
                          {"in_flight", p.in_flight},
                          {"parked", p.parked},
                          {"paused", pause_reasons(p.paused)}});
  }
  // Who holds this instance: its own HTTP pause (local) and the control topic's (fleet).
  json pauses = json::array();
  if (state_.operator_pause_wanted()) pauses.push_back({{"source", "local"}, {"scope", "kernel"}});
  for (const auto& fleet : snapshot.fleet_pauses) {
    json pause{{"source", "fleet"},
               {"scope", fleet.topic.empty()   ? "kernel"
                         : fleet.partition < 0 ? "topic"
                                               : "partition"},
               {"by", fleet.by},
               {"at", fleet.at},
               {"reason", fleet.reason}};
    if (!fleet.topic.empty()) pause["topic"] = fleet.topic;
    if (fleet.partition >= 0) pause["partition"] = fleet.partition;
    pauses.push_back(std::move(pause));
  }
  const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(state_.since_heartbeat());
  const auto down = std::chrono::duration_cast<std::chrono::milliseconds>(state_.brokers_down_for());
  return reply(connection, MHD_HTTP_OK,
               json{{"phase", phase_name(state_.phase())},
                    {"group", options_.group_id},
                    {"operator_paused", state_.operator_pause_wanted()},
                    {"in_flight", snapshot.in_flight},
                    {"parked", snapshot.parked},
                    {"pending_outputs", snapshot.pending_outputs},
                    {"dead_letter_blocked",
                     snapshot.dead_letter_blocked.empty() ? json(nullptr) : json(snapshot.dead_letter_blocked)},
                    {"last_poll_ms_ago", since.count()},
                    {"brokers_down_ms", state_.brokers_reported_down() ? json(down.count()) : json(nullptr)},
                    {"circuit", circuit(snapshot)},
                    {"last_failure", last_failure(snapshot.last_failure)},
                    {"published_at_ms", snapshot.published_at_ms},
                    {"partitions", std::move(partitions)},
                    {"pauses", std::move(pauses)}});
}

int OpsServer::admin(MHD_Connection* connection, Request& request, bool pause) {
  const char* action = pause ? "pause" : "resume";
  if (options_.admin_token.empty()) {
    return reply(connection, MHD_HTTP_FORBIDDEN,
                 json{{"error",
                       "admin endpoints are off: set KERNEL_ADMIN_TOKEN and send it as "
                       "'Authorization: Bearer <token>'"}});
  }
  const char* given = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  const std::string_view header = given ? given : "";
  constexpr std::string_view scheme = "Bearer ";
  if (header.size() <= scheme.size() || header.compare(0, scheme.size(), scheme) != 0 ||
      !token_matches(header.substr(scheme.size()), options_.admin_token)) {
    log_->warn("admin {} from {} refused: {}", action, client_address(connection),
               header.empty() ? "no token" : "wrong token");
    return reply(connection, MHD_HTTP_UNAUTHORIZED, json{{"error", "missing or wrong bearer token"}},
                 {{MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer"}});
  }
  log_->warn("admin {} requested from {}", action, client_address(connection));
  const auto generation = state_.request_operator_pause(pause);
  // Applied by the loop within one poll, unless a handler call is running long: the request
  // is suspended meanwhile (the server serves everyone else) and answered when resumed.
  request.waiting = true;
  MHD_suspend_connection(connection);
  waits_->add(connection, request, generation);
  return MHD_YES;
}

std::string probe_address(const std::string& host) {
  if (host == "0.0.0.0" || host.empty()) return "127.0.0.1";
  if (host == "::") return "::1";
  return host;
}

int health_check(const std::string& host, int port, std::ostream& out) {
  const auto address = probe_address(host);
  httplib::Client client(address, port);
  client.set_connection_timeout(std::chrono::seconds(2));
  client.set_read_timeout(std::chrono::seconds(5));
  auto result = client.Get("/healthz");
  if (!result) {
    out << "unhealthy: nothing answers on " << address << ":" << port << " (" << httplib::to_string(result.error())
        << ")\n";
    return 1;
  }
  if (result->status == 200) {
    out << "healthy: " << result->body << "\n";
    return 0;
  }
  out << "unhealthy: HTTP " << result->status << " " << result->body << "\n";
  return 1;
}

}  // namespace kernel::detail
