"""The customer service the kernel calls, as the tests run it: an HTTP/1.1 server (connections
kept alive) on 127.0.0.1 answering GET /customers/<id> with {"id", "name", "tier"}, 404 for ids
starting with `unknown`. What it answers is the test's to choose:

- mode "ok": the customer; "slow": the customer, after `slow_seconds`; "throttled": 429 with
  `Retry-After: 1` and 503, in turn;
- script(statuses): the next requests get these statuses (a 429 with `Retry-After: 1`), then
  the mode's answer.

It records every request: when, for which customer and correlation id, from which client
port, with which status; and the most requests it was answering at once."""
import collections
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Request = collections.namedtuple("Request", "at customer correlation_id client_port status")


class CustomerService:
    def __init__(self, port=0, slow_seconds=2.0):
        self.mode = "ok"
        self.slow_seconds = slow_seconds
        self.requests = []
        self.max_concurrent = 0
        self._scripted = collections.deque()
        self._concurrent = 0
        self._throttled_turn = 0
        self._lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the kernel's client asks

            def do_GET(self):
                service._answer(self)

            def log_message(self, *args):
                pass  # the test reads `requests`, not a log

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def script(self, statuses):
        with self._lock:
            self._scripted.extend(statuses)

    def set_mode(self, mode):
        self.mode = mode

    def connections(self):
        return len({r.client_port for r in list(self.requests)})

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def _choose(self, customer):
        with self._lock:
            if self._scripted:
                return self._scripted.popleft(), 0
            if self.mode == "throttled":
                self._throttled_turn += 1
                return (429 if self._throttled_turn % 2 else 503), 0
        if customer.startswith("unknown"):
            return 404, 0
        return 200, (self.slow_seconds if self.mode == "slow" else 0)

    def _answer(self, handler):
        customer = handler.path.rsplit("/", 1)[-1]
        status, delay = self._choose(customer)
        with self._lock:
            self._concurrent += 1
            self.max_concurrent = max(self.max_concurrent, self._concurrent)
            self.requests.append(Request(time.monotonic(), customer, handler.headers.get("X-Correlation-Id"),
                                         handler.client_address[1], status))
        try:
            if delay:
                time.sleep(delay)  # the slow answer itself, not a synchronisation
            body = json.dumps({"id": customer, "name": f"Customer {customer}", "tier": "gold"}).encode() \
                if status == 200 else b""
            handler.send_response(status)
            if status == 429:
                handler.send_header("Retry-After", "1")
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # the client gave up waiting: its deadline passed
        finally:
            with self._lock:
                self._concurrent -= 1


if __name__ == "__main__":
    # python3 tests/customer_service.py [PORT [MODE]]: the service alone, to try the kernel by
    # hand (README.md); Ctrl-C stops it.
    import sys
    service = CustomerService(port=int(sys.argv[1]) if len(sys.argv) > 1 else 8081)
    service.set_mode(sys.argv[2] if len(sys.argv) > 2 else "ok")
    print(f"customer service on {service.url} ({service.mode}); Ctrl-C stops it", flush=True)
    try:
        service.thread.join()
    except KeyboardInterrupt:
        service.stop()
