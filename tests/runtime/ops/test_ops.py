"""Operations of a running kernel, process-level, on kernel-dev-broker: health and readiness,
/metrics (checked by promtool and scraped by a real Prometheus), admin pause/resume and its
authentication, robustness against bad HTTP clients, --health-check, and kernel-admin checked
against confluent-kafka. Loopback only; every wait is a condition with a deadline."""
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import kernel_harness as kh  # noqa: E402
from test_process import BrokerTestCase, numbers_of  # noqa: E402

IT_KERNEL = os.environ["IT_KERNEL"]
KERNEL_ADMIN = os.environ["ADMIN_TOOL"]
PROMETHEUS = os.environ.get("PROMETHEUS", "/usr/bin/prometheus")
PROMTOOL = os.environ.get("PROMTOOL", "/usr/bin/promtool")
TOKEN = "test-admin-token-0123456789"
PARTITIONS = 4
http, free_port = kh.http, kh.free_port


def metric(text, name, **labels):
    """The value of one sample of the exposition text (0 when absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(3) or ""))
        if all(found.get(k) == str(v) for k, v in labels.items()):
            return float(match.group(4))
    return 0.0


def closed_by_server(s):
    """The server has closed `s` (end of stream or reset), without waiting."""
    try:
        return s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


class OpsTests(BrokerTestCase):
    partitions = PARTITIONS

    def start(self, **env):
        settings = {"KERNEL_HTTP_PORT": "0", "KERNEL_ADMIN_TOKEN": TOKEN, "KAFKA_CONSUMER_SESSION_TIMEOUT": "6s",
                    "KAFKA_CONSUMER_HEARTBEAT_INTERVAL": "1s", **env}
        kernel = super().start(**settings)
        if settings["KERNEL_HTTP_PORT"] != "off":
            kernel.url = kernel.http_url()
        return kernel

    def ready(self, kernel):
        return http("GET", kernel.url + "/readyz")[0] == 200

    def metrics(self, kernel):
        status, body = http("GET", kernel.url + "/metrics")
        self.assertEqual(status, 200, body)
        return body

    def test_readiness_starts_503_turns_200_after_joining_and_503_on_sigterm(self):
        kernel = self.start(KAFKA_CONSUMER_GROUP="ready")
        status, body = http("GET", kernel.url + "/readyz")
        self.assertEqual(status, 503, body)  # the mock's first join takes ~3 s
        self.assertIn("not yet a member", json.loads(body)["reason"])
        self.assertEqual(http("GET", kernel.url + "/healthz")[0], 200)
        kh.wait_for(lambda: self.ready(kernel), 30, "readiness after joining")
        self.assertEqual(json.loads(http("GET", kernel.url + "/readyz")[1])["ready"], True)

        seen = []
        watching = threading.Event()

        def watch():
            watching.set()
            while kernel.process.poll() is None:
                seen.append(http("GET", kernel.url + "/readyz", timeout=1))
        watcher = threading.Thread(target=watch)
        watcher.start()
        watching.wait(5)
        self.assertEqual(kernel.stop(), 0)
        watcher.join(10)
        shutting = [body for status, body in seen if status == 503]
        self.assertTrue(shutting, f"no 503 seen while stopping: {seen[-3:]}")
        self.assertEqual(json.loads(shutting[0])["reason"], "shutting down")

    def test_metrics_count_outcomes_lag_drains_and_promtool_accepts_them(self):
        group = "metrics"
        backlog = [(f"k{n}", json.dumps({"n": n})) for n in range(600)]
        backlog += [(f"b{n}", json.dumps({"n": 1000 + n, "fail": "business"})) for n in range(7)]
        backlog += [(f"d{n}", json.dumps({"n": 2000 + n, "fail": "permanent"})) for n in range(5)]
        backlog += [(f"t{n}", json.dumps({"n": 3000 + n, "fail": "transient", "times": 1})) for n in range(3)]
        self.produce(backlog)
        kernel = self.start(KAFKA_CONSUMER_GROUP=group, KERNEL_RETRY_BACKOFF="50ms", IT_HANDLE_DELAY_US=2000)
        # A backlog is visible as lag while it drains, then lag drops to 0 everywhere.
        kh.wait_for(lambda: sum(metric(self.metrics(kernel), "kernel_consumer_lag", partition=p, topic="it.in")
                                for p in range(PARTITIONS)) > 0, 60, "lag to show the backlog")
        kh.wait_for(lambda: self.all_committed(group), 90, "the backlog to be handled and committed")

        def settled():
            text = self.metrics(kernel)
            lags = [metric(text, "kernel_consumer_lag", topic="it.in", partition=p) for p in range(PARTITIONS)]
            return text if text.count('kernel_consumer_lag{') == PARTITIONS and lags == [0] * PARTITIONS else None
        text = kh.wait_for(settled, 30, "kernel_consumer_lag 0 on every partition")

        self.assertEqual(metric(text, "kernel_messages_consumed_total", topic="it.in"), 615)
        self.assertEqual(metric(text, "kernel_messages_handled_total", topic="it.in", outcome="success"), 603)
        self.assertEqual(metric(text, "kernel_messages_handled_total", topic="it.in", outcome="business_error"), 7)
        self.assertEqual(metric(text, "kernel_messages_handled_total", topic="it.in", outcome="dead_lettered"), 5)
        self.assertEqual(metric(text, "kernel_messages_handled_total", topic="it.in", outcome="retried"), 3)
        self.assertEqual(metric(text, "kernel_messages_produced_total", topic="it.out"), 603)
        self.assertEqual(metric(text, "kernel_messages_produced_total", topic="it-kernel.dlq"), 5)
        self.assertEqual(metric(text, "kernel_handler_duration_seconds_count", topic="it.in"), 618)
        self.assertEqual(metric(text, "kernel_in_flight_messages"), 0)
        self.assertGreaterEqual(metric(text, "kernel_commits_total"), 1)
        self.assertGreaterEqual(metric(text, "kernel_rebalances_total"), 1)
        for reason in ("retry", "operator", "breaker"):
            self.assertEqual(metric(text, "kernel_partitions_paused", reason=reason), 0)

        check = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertEqual(kernel.stop(), 0)

    def test_a_retry_pause_keeps_the_kernel_ready_and_shows_in_status_and_metrics(self):
        kernel = self.start(KAFKA_CONSUMER_GROUP="retry-ready", KERNEL_RETRY_BACKOFF="3s")
        kh.wait_for(lambda: self.ready(kernel), 30, "readiness")
        self.produce([("r", json.dumps({"n": 1, "fail": "transient", "times": 1}))])
        kh.wait_for(lambda: metric(self.metrics(kernel), "kernel_partitions_paused", reason="retry") == 1, 30,
                    "the partition paused for its retry")
        self.assertTrue(self.ready(kernel))
        status = json.loads(http("GET", kernel.url + "/admin/status")[1])
        self.assertEqual([p["paused"] for p in status["partitions"] if p["paused"]], [["retry"]])
        self.reader().read_until(1, 30)  # the retry succeeded
        kh.wait_for(lambda: metric(self.metrics(kernel), "kernel_partitions_paused", reason="retry") == 0, 10,
                    "the partition resumed")
        self.assertTrue(self.ready(kernel))
        self.assertEqual(kernel.stop(), 0)

    def test_operator_pause_stops_handling_and_resume_loses_nothing(self):
        kernel = self.start(KAFKA_CONSUMER_GROUP="pause")
        kh.wait_for(lambda: self.ready(kernel), 30, "readiness")
        auth = {"Authorization": f"Bearer {TOKEN}"}
        for headers, expected in (({}, 401), ({"Authorization": "Bearer wrong"}, 401),
                                  ({"Authorization": TOKEN}, 401)):
            self.assertEqual(http("POST", kernel.url + "/admin/pause", headers)[0], expected)
        status, body = http("POST", kernel.url + "/admin/pause", auth)
        self.assertEqual(status, 200, body)
        self.assertTrue(json.loads(body)["applied"])
        # Readiness can come before the whole assignment under load: every partition the member
        # gets is paused by the operator's request, once it has them all.
        kh.wait_for(lambda: metric(self.metrics(kernel), "kernel_partitions_paused", reason="operator") == PARTITIONS,
                    30, "every partition paused by the operator")
        self.assertTrue(self.ready(kernel), "an operator pause does not change readiness")

        self.produce([(f"p{n}", json.dumps({"n": n})) for n in range(200)])
        reader = self.reader()
        quiet_until = time.monotonic() + 2.0  # a negative check needs a window: nothing may come out
        while time.monotonic() < quiet_until:
            self.assertEqual(reader.drain(quiet=0.2), [])
        status = json.loads(http("GET", kernel.url + "/admin/status")[1])
        self.assertTrue(status["operator_paused"])
        self.assertTrue(all("operator" in p["paused"] for p in status["partitions"]))
        self.assertEqual(metric(self.metrics(kernel), "kernel_messages_consumed_total", topic="it.in"), 0)

        self.assertEqual(http("POST", kernel.url + "/admin/resume", auth)[0], 200)
        numbers = numbers_of(reader.read_until(200, 60))
        self.assertEqual(sorted(set(numbers)), list(range(200)))
        self.assertEqual(metric(self.metrics(kernel), "kernel_partitions_paused", reason="operator"), 0)
        self.assertEqual(kernel.stop(), 0)

    def test_partitions_assigned_during_an_operator_pause_start_paused(self):
        kernel = self.start(KAFKA_CONSUMER_GROUP="paused-early")
        status, body = http("POST", kernel.url + "/admin/pause", {"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        self.assertIn(status, (200, 202), body)  # before joining: applied as soon as the loop runs
        kh.wait_for(lambda: self.ready(kernel), 30, "readiness")
        kh.wait_for(lambda: metric(self.metrics(kernel), "kernel_partitions_paused", reason="operator") == PARTITIONS,
                    10, "every assigned partition paused")
        self.produce([(f"e{n}", json.dumps({"n": n})) for n in range(50)])
        reader = self.reader()
        self.assertEqual(reader.drain(quiet=1.5), [])
        self.assertEqual(http("POST", kernel.url + "/admin/resume", {"Authorization": f"Bearer {TOKEN}"})[0], 200)
        self.assertEqual(sorted(set(numbers_of(reader.read_until(50, 60)))), list(range(50)))
        self.assertEqual(kernel.stop(), 0)

    def test_a_thousand_bad_requests_leave_handling_unaffected(self):
        kernel = self.start(KAFKA_CONSUMER_GROUP="flood")
        kh.wait_for(lambda: self.ready(kernel), 30, "readiness")
        host, port = "127.0.0.1", int(kernel.url.rsplit(":", 1)[1])

        def bad(i):
            kind = i % 5
            try:
                with socket.create_connection((host, port), timeout=10) as s:
                    if kind == 0:
                        s.sendall(b"GET /nope/%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
                    elif kind == 1:
                        s.sendall(b"GET /healthz HTTP/1.1\r\nX-Big: " + b"x" * 65536 + b"\r\n\r\n")
                    elif kind == 2:
                        s.sendall(b"\x16\x03\x01 definitely not http\r\n\r\n")
                    elif kind == 3 and i % 50 == 3:
                        s.sendall(b"GET /metr")  # a slow client: never finishes its request
                    elif kind == 3:
                        s.sendall(b"BREW /coffee HTTP/1.1\r\n\r\n")
                    else:
                        s.sendall(b"POST /admin/pause HTTP/1.1\r\nAuthorization: Bearer nope\r\n"
                                  b"Content-Length: 5\r\n\r\nhello")
                    s.recv(1024)
            except OSError:
                pass  # refused, reset or timed out: all fine for a bad client

        self.produce([(f"f{n}", json.dumps({"n": n})) for n in range(2000)])
        reader = self.reader()
        with ThreadPoolExecutor(max_workers=200) as pool:
            list(pool.map(bad, range(1000)))
        numbers = numbers_of(reader.read_until(2000, 60))
        self.assertEqual(sorted(set(numbers)), list(range(2000)))
        kh.wait_for(lambda: http("GET", kernel.url + "/healthz")[0] == 200, 30, "healthz after the flood")
        self.assertNotEqual(http("POST", kernel.url + "/admin/pause", {"Authorization": "Bearer nope"})[0], 200)
        self.assertEqual(kernel.stop(), 0)

    def test_probes_answer_while_a_thousand_idle_or_trickling_clients_hold_connections(self):
        # 257 idle clients used to take /healthz down; 100 source addresses (all of 127/8 is
        # loopback) keep each under the per-address limit, so the server's capacity is tested.
        kernel = self.start(KAFKA_CONSUMER_GROUP="slow-clients")
        kh.wait_for(lambda: self.ready(kernel), 30, "readiness")
        port = int(kernel.url.rsplit(":", 1)[1])
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 1500:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(1500, hard), hard))
        clients, stop = [], threading.Event()

        def trickle():  # one in five sends a request a byte every 200 ms, never finishing it
            for byte in b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200:
                for s in clients[::5]:
                    try:
                        s.send(bytes([byte]))
                    except OSError:
                        pass
                if stop.wait(0.2):
                    return

        trickler = threading.Thread(target=trickle)
        try:
            for i in range(1000):
                s = socket.socket()
                clients.append(s)
                s.bind((f"127.0.1.{1 + i % 100}", 0))
                s.connect(("127.0.0.1", port))
            trickler.start()
            for path in ("/healthz", "/readyz"):
                started = time.monotonic()
                status, body = http("GET", kernel.url + path, timeout=1)
                took = time.monotonic() - started
                self.assertEqual(status, 200, f"{path}: {body}")
                self.assertLess(took, 1.0, path)
            self.assertGreater(sum(not closed_by_server(s) for s in clients), 128, "the flood is held meanwhile")
            kh.wait_for(lambda: all(closed_by_server(s) for s in clients), 8, "the request timeout to cut the flood off")
            self.assertEqual(http("GET", kernel.url + "/metrics", timeout=1)[0], 200)
        finally:
            stop.set()
            if trickler.is_alive():
                trickler.join()
            for s in clients:
                s.close()
        self.assertEqual(kernel.stop(), 0)

    def test_health_check_flag_and_port_rules(self):
        kernel = self.start(KAFKA_CONSUMER_GROUP="probe")
        port = kernel.url.rsplit(":", 1)[1]
        env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=self.broker.bootstrap, KERNEL_HTTP_PORT=port)
        ok = subprocess.run([IT_KERNEL, "--health-check"], env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        self.assertIn("healthy", ok.stdout)
        env["KERNEL_HTTP_PORT"] = str(kh.free_port())
        down = subprocess.run([IT_KERNEL, "--health-check"], env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(down.returncode, 1)
        self.assertIn("unhealthy", down.stdout)
        env["KERNEL_HTTP_PORT"] = "off"
        off = subprocess.run([IT_KERNEL, "--health-check"], env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(off.returncode, 1)
        # A second kernel on the same port: exit 69, saying why.
        env["KERNEL_HTTP_PORT"] = port
        taken = subprocess.run([IT_KERNEL], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(taken.returncode, 69, taken.stderr)
        self.assertIn("KERNEL_HTTP_PORT", taken.stderr)
        self.assertEqual(kernel.stop(), 0)

    def test_http_address_binds_there_and_a_bad_one_is_a_configuration_error(self):
        env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=self.broker.bootstrap, KERNEL_HTTP_PORT="0",
                   KERNEL_HTTP_ADDRESS="localhost")
        bad = subprocess.run([IT_KERNEL], env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(bad.returncode, 78, bad.stderr)
        errors = [line for line in bad.stderr.splitlines() if "config error" in line]
        self.assertEqual(errors, ['config error: KERNEL_HTTP_ADDRESS="localhost": expected an IP address: 0.0.0.0 '
                                  '(all interfaces), 127.0.0.1 (this host only) or another address of this host'])
        # 127.0.0.2 is loopback too, but not 127.0.0.1: where it answers tells where it is bound.
        kernel = self.start(KAFKA_CONSUMER_GROUP="address", KERNEL_HTTP_ADDRESS="127.0.0.2")
        self.assertTrue(kernel.url.startswith("http://127.0.0.2:"), kernel.url)
        self.assertEqual(http("GET", kernel.url + "/healthz")[0], 200)
        self.assertIsNone(http("GET", kernel.url.replace("127.0.0.2", "127.0.0.1") + "/healthz")[0])
        port = kernel.url.rsplit(":", 1)[1]
        probe = subprocess.run([IT_KERNEL, "--health-check"], capture_output=True, text=True, timeout=30,
                               env=dict(env, KERNEL_HTTP_PORT=port, KERNEL_HTTP_ADDRESS="127.0.0.2"))
        self.assertEqual(probe.returncode, 0, probe.stdout + probe.stderr)
        self.assertEqual(kernel.stop(), 0)

    def test_the_documentation_says_what_the_endpoints_do(self):
        """docs/operations.md and the kernel template's README.md and CLAUDE.md: each endpoint they
        name answers its method; what they say needs the token refuses a request without it; and
        their curl commands work as written."""
        top = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
        texts = {name: open(os.path.join(top, name)).read() for name in
                 ("docs/operations.md", "templates/kernel/README.md.mustache", "templates/kernel/CLAUDE.md.mustache")}
        kernel = self.start(KAFKA_CONSUMER_GROUP="documented")
        kh.wait_for(lambda: self.ready(kernel), 30, "readiness")
        port = kernel.url.rsplit(":", 1)[1]
        checked = set()
        for name, text in texts.items():
            for method, path in re.findall(r"`(GET|POST) (/[a-z/]+)`", text):
                status, body = http(method, kernel.url + path)
                self.assertNotIn(status, (404, 405), f"{name}: {method} {path}: {body}")
                checked.add((method, path))
            # Each sentence (of a bullet, table row or paragraph) that says what needs the token:
            # an endpoint it names refuses a request without the token, unless the words right
            # after it say otherwise.
            chunks = re.split(r"\n\s*\n|\n(?=- |\| )", text)
            for chunk in (sentence for chunk in chunks for sentence in re.split(r"(?<=\.)\s+", chunk)):
                if "token" not in chunk.lower() or "need" not in chunk.lower():
                    continue
                for path, after in re.findall(r"`(?:GET |POST )?(/admin/[a-z]+)`([^`;.]*)", chunk):
                    method = "GET" if path == "/admin/status" else "POST"
                    status, _ = http(method, kernel.url + path)
                    expected = 200 if "no token" in after else 401
                    self.assertEqual(status, expected, f"{name} says of {path}: {chunk.strip()}")
                    checked.add((method, path))
            for command in re.findall(r"^`?\(?`?(curl [^`\n]+)", text, re.MULTILINE):
                command = command.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
                ran = subprocess.run(command + " -sS -o /dev/null -w '%{http_code}'", shell=True, capture_output=True,
                                     text=True, timeout=30, env=dict(os.environ, KERNEL_ADMIN_TOKEN=TOKEN))
                self.assertEqual(ran.stdout, "200", f"{name}: {command}: {ran.stderr}")
                checked.add(("curl", command.split()[-1]))
        self.assertTrue({("GET", "/admin/status"), ("POST", "/admin/pause"), ("POST", "/admin/resume"),
                         ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")} <= checked, checked)
        self.assertEqual(kernel.stop(), 0)

    def test_prometheus_scrapes_a_running_kernel(self):
        kernel = self.start(KAFKA_CONSUMER_GROUP="scraped")
        self.produce([(f"s{n}", json.dumps({"n": n})) for n in range(20)])
        self.reader().read_until(20, 60)
        target = kernel.url.split("//", 1)[1]
        web = kh.free_port()
        with tempfile.TemporaryDirectory() as workdir:
            config = os.path.join(workdir, "prometheus.yml")
            with open(config, "w") as out:
                out.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n"
                          f"  - job_name: kernel\n    static_configs:\n      - targets: ['{target}']\n")
            prometheus = subprocess.Popen(
                [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={workdir}/data",
                 f"--web.listen-address=127.0.0.1:{web}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                query = f"http://127.0.0.1:{web}/api/v1/query?query=kernel_messages_handled_total"

                def answered():
                    status, body = http("GET", query)
                    if status != 200:
                        return None
                    results = json.loads(body)["data"]["result"]
                    return [r for r in results if r["metric"].get("outcome") == "success"
                            and float(r["value"][1]) == 20] or None
                result = kh.wait_for(answered, 60, "Prometheus to scrape kernel_messages_handled_total")
                self.assertEqual(result[0]["metric"]["topic"], "it.in")
                self.assertEqual(result[0]["metric"]["job"], "kernel")
            finally:
                prometheus.send_signal(signal.SIGTERM)
                prometheus.wait(timeout=30)
        self.assertEqual(kernel.stop(), 0)

    def test_kernel_admin_lag_and_reset_to_earliest_agree_with_confluent_kafka(self):
        group = "admin"
        self.produce([(f"a{n}", json.dumps({"n": n})) for n in range(300)])
        kernel = self.start(KAFKA_CONSUMER_GROUP=group, KERNEL_HTTP_PORT="off")
        kh.wait_for(lambda: self.all_committed(group), 60, "everything committed")
        self.assertEqual(kernel.stop(), 0)
        self.produce([(f"a{n}", json.dumps({"n": n})) for n in range(300, 340)])

        env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=self.broker.bootstrap)

        def admin(*args):
            return subprocess.run([KERNEL_ADMIN, *args], env=env, capture_output=True, text=True, timeout=60)

        lag = admin("--json", "lag", group, "--topic", "it.in")
        self.assertEqual(lag.returncode, 0, lag.stderr)
        report = json.loads(lag.stdout)
        committed = self.committed(group)
        highs = kh.watermarks(self.broker.bootstrap, "it.in", PARTITIONS)
        for row in report["partitions"]:
            self.assertEqual(row["committed"], committed[row["partition"]])
            self.assertEqual(row["high"], highs[row["partition"]])
            self.assertEqual(row["lag"], highs[row["partition"]] - committed[row["partition"]])
        self.assertEqual(report["total_lag"], 40)
        self.assertEqual(admin("lag", group).returncode, 0)  # every topic the group committed on
        self.assertIn("total lag 40", admin("lag", group).stdout)

        refused = admin("reset-offsets", group, "--topic", "it.in", "--to", "earliest")
        self.assertEqual(refused.returncode, 69)
        self.assertIn("--force", refused.stderr)
        self.assertEqual(self.committed(group), committed)
        dry = admin("reset-offsets", group, "--topic", "it.in", "--to", "earliest", "--dry-run")
        self.assertEqual(dry.returncode, 0)
        self.assertEqual(self.committed(group), committed)
        reset = admin("reset-offsets", group, "--topic", "it.in", "--to", "earliest", "--force")
        self.assertEqual(reset.returncode, 0, reset.stderr)
        self.assertEqual(self.committed(group),
                         {p: 0 for p in range(PARTITIONS)})
        by_time = admin("reset-offsets", group, "--topic", "it.in", "--to", "2026-01-01T00:00:00Z", "--force")
        self.assertEqual(by_time.returncode, 0, by_time.stderr)  # every message is newer: the start
        self.assertEqual(self.committed(group),
                         {p: 0 for p in range(PARTITIONS)})
        self.assertEqual(admin("reset-offsets", group, "--topic", "it.in", "--to", "sideways").returncode, 64)
        stats = admin("--json", "topic-stats", "it.in")
        self.assertEqual(json.loads(stats.stdout)["messages"], 340)

        # The kernel starts again from the beginning: every message once more.
        reader = self.reader()
        again = self.start(KAFKA_CONSUMER_GROUP=group, KERNEL_HTTP_PORT="off")
        kh.wait_for(lambda: self.all_committed(group), 90, "everything handled again")
        self.assertEqual(again.stop(), 0)
        numbers = numbers_of(reader.drain())
        self.assertEqual(len(numbers), 300 + 340)  # the first run's, then all of them again
        self.assertEqual(sorted(set(numbers)), list(range(340)))


class KernelAdminTests(BrokerTestCase):
    """kernel-admin against kernel-dev-broker, checked with confluent-kafka."""
    partitions = PARTITIONS

    def admin(self, *args, **settings):
        return kh.run_binary(KERNEL_ADMIN, *args,
                             env=kh.clean_environment(KAFKA_BOOTSTRAP_SERVERS=self.broker.bootstrap, **settings))

    def commit_as_member(self, group, offsets):
        """Commits {partition: offset} of it.in for `group` as a member of it (the development
        broker takes commits for a group only from a member), then leaves."""
        consumer = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": group,
                             "enable.auto.commit": False, "session.timeout.ms": 6000})
        consumer.subscribe(["it.in"])
        try:
            def assigned():
                consumer.poll(0.1)  # serves the group protocol
                return len(consumer.assignment()) == PARTITIONS
            kh.wait_for(assigned, 30, "the whole topic assigned")
            consumer.commit(offsets=[TopicPartition("it.in", p, o) for p, o in offsets.items()], asynchronous=False)
        finally:
            consumer.close()

    def test_lag_without_a_commit_counts_from_where_the_group_would_start(self):
        producer = Producer({"bootstrap.servers": self.broker.bootstrap, "linger.ms": 5})
        for partition, count in enumerate((5, 7, 0, 3)):
            for n in range(count):
                producer.produce("it.in", value=b"{}", partition=partition)
        self.assertEqual(producer.flush(30), 0)
        self.commit_as_member("half", {0: 1, 1: 7})

        report = json.loads(self.admin("--json", "lag", "half", "--topic", "it.in").stdout)
        self.assertEqual([(r["partition"], r["committed"], r["low"], r["high"], r["lag"]) for r in report["partitions"]],
                         [(0, 1, 0, 5, 4), (1, 7, 0, 7, 0), (2, None, 0, 0, 0), (3, None, 0, 3, 3)])
        self.assertEqual(report["total_lag"], 7)
        self.assertEqual(report["start_offset"], "earliest")

        text = self.admin("lag", "half", "--topic", "it.in").stdout
        self.assertRegex(text, r"(?m)^it\.in\s+0\s+1\s+0\s+5\s+4$")
        self.assertRegex(text, r"(?m)^it\.in\s+3\s+nothing committed\s+0\s+3\s+3$")
        self.assertIn("total lag 7 (group half)", text)
        self.assertIn("2 partitions with nothing committed: counted from the low watermark, where "
                      "KAFKA_CONSUMER_START_OFFSET=earliest starts the group", text)

        # A group that starts at the end skips what waits now: no lag, and it says so.
        latest = self.admin("lag", "half", "--topic", "it.in", KAFKA_CONSUMER_START_OFFSET="latest").stdout
        self.assertRegex(latest, r"(?m)^it\.in\s+3\s+nothing committed\s+0\s+3\s+0$")
        self.assertIn("total lag 4 (group half)", latest)
        self.assertIn("counted from the high watermark, where KAFKA_CONSUMER_START_OFFSET=latest starts the group",
                      latest)

        # A group that never committed: every partition waits for it, from the start.
        never = json.loads(self.admin("--json", "lag", "never-ran", "--topic", "it.in").stdout)
        self.assertEqual(never["total_lag"], 15)
        self.assertIn("total lag 15 (group never-ran)", self.admin("lag", "never-ran", "--topic", "it.in").stdout)
        # Without --topic it cannot know the group's topics: it says how to name them.
        unnamed = self.admin("lag", "never-ran")
        self.assertEqual(unnamed.returncode, 0, unnamed.stderr)
        self.assertIn("group never-ran has no committed offsets", unnamed.stdout)
        self.assertIn("--topic", unnamed.stdout)

    def topics(self):
        """Every topic the broker holds (an all-topics request, which creates nothing)."""
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        return set(admin.list_topics(timeout=10).topics)

    def test_without_brokers_it_suggests_only_what_kernel_admin_takes_and_that_works(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "KERNEL_"))}
        with tempfile.TemporaryDirectory() as directory:  # no ./.env there

            def admin(*args):
                return subprocess.run([KERNEL_ADMIN, *args], env=env, cwd=directory, capture_output=True, text=True,
                                      timeout=60)
            result = admin("topic-stats", "it.in")
            self.assertEqual(result.returncode, 78, result.stderr)
            lines = result.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, result.stderr)
            # A kernel's own ways to the development broker are not kernel-admin's.
            self.assertNotIn("--dev", lines[0])
            self.assertNotIn("embedded", lines[0])
            self.assertIn("KAFKA_BOOTSTRAP_SERVERS=HOST:PORT", lines[0])
            self.assertIn("./.env", lines[0])
            self.assertIn("kernel-dev-broker", lines[0])
            self.assertEqual(admin("--dev", "topic-stats", "it.in").returncode, 64)  # what it must not suggest
            # What it suggests works: the variable, or the same line in ./.env.
            env["KAFKA_BOOTSTRAP_SERVERS"] = self.broker.bootstrap
            self.assertEqual(admin("topic-stats", "it.in").returncode, 0)
            del env["KAFKA_BOOTSTRAP_SERVERS"]
            with open(os.path.join(directory, ".env"), "w") as f:
                f.write(f"KAFKA_BOOTSTRAP_SERVERS={self.broker.bootstrap}\n")
            from_file = admin("topic-stats", "it.in")
            self.assertEqual(from_file.returncode, 0, from_file.stderr)

    def test_help_names_the_tool_and_every_command(self):
        result = subprocess.run([KERNEL_ADMIN, "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn(os.path.dirname(KERNEL_ADMIN), result.stdout)  # the name, not where it was run from
        self.assertRegex(result.stdout, r"(?m)^Usage: kernel-admin \[OPTIONS\]")
        self.assertIn("dead letters", result.stdout.split("\n\n", 1)[0])  # the first paragraph says what it does
        for command in ("lag", "reset-offsets", "topic-stats", "dlq"):
            self.assertRegex(result.stdout, rf"(?m)^  {command}\s+\S", command)
        self.assertRegex(result.stdout, r"--json\s+.*dlq list")  # it applies to dlq too
        dlq = subprocess.run([KERNEL_ADMIN, "dlq", "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(dlq.returncode, 0, dlq.stderr)
        self.assertNotIn(os.path.dirname(KERNEL_ADMIN), dlq.stdout)
        self.assertRegex(dlq.stdout, r"(?m)^Usage: kernel-admin dlq ")
        for command in ("list", "stats", "replay"):
            self.assertRegex(dlq.stdout, rf"(?m)^  {command}\s+\S", command)

    def test_a_missing_topic_is_reported_and_never_created(self):
        before = self.topics()
        for args in (["topic-stats", "no.such.topic"], ["lag", "some-group", "--topic", "no.such.topic"],
                     ["reset-offsets", "some-group", "--topic", "no.such.topic", "--to", "earliest", "--dry-run"]):
            result = self.admin(*args)
            self.assertEqual(result.returncode, 69, (args, result.stdout, result.stderr))
            self.assertIn("no.such.topic does not exist", result.stderr)
            self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertNotIn("no.such.topic", self.topics())
        self.assertEqual(self.topics(), before)

    def test_topic_stats_counts_in_words(self):
        self.assertIn(f"it.in: {PARTITIONS} partitions, 0 messages held", self.admin("topic-stats", "it.in").stdout)
        self.produce([(b"k", b'{"n": 1}')])
        self.assertIn(f"it.in: {PARTITIONS} partitions, 1 message held", self.admin("topic-stats", "it.in").stdout)


    def new_offsets(self, result):
        """{partition: NEW} from reset-offsets' table."""
        rows = [line.split() for line in result.stdout.splitlines()[1:] if line.startswith("it.in ")]
        return {int(row[1]): int(row[3]) for row in rows}

    def test_reset_to_a_time_falls_back_to_message_timestamps_and_says_so(self):
        base = 1767225600000  # 2026-01-01T00:00:00Z
        producer = Producer({"bootstrap.servers": self.broker.bootstrap, "linger.ms": 5})
        for partition in range(PARTITIONS):
            for n in range(40):  # one message a second, offsets 0..39
                producer.produce("it.in", value=b"x", partition=partition, timestamp=base + n * 1000)
        self.assertEqual(producer.flush(30), 0)

        def to(when, *extra):
            result = self.admin("reset-offsets", "by-time", "--topic", "it.in", "--to", when, *extra)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("message timestamps", result.stderr)
            return result

        # The first message at or after 00:00:20.500 is the one of 00:00:21, at offset 21.
        self.assertEqual(self.new_offsets(to("2026-01-01T00:00:20.500Z", "--dry-run")),
                         {p: 21 for p in range(PARTITIONS)})
        self.assertEqual(self.new_offsets(to("2026-01-01T00:00:00Z", "--dry-run")), {p: 0 for p in range(PARTITIONS)})
        self.assertEqual(self.new_offsets(to("2026-01-01T01:00:00+01:00", "--dry-run")),
                         {p: 0 for p in range(PARTITIONS)})
        self.assertEqual(self.new_offsets(to("2026-01-01T00:00:39Z", "--dry-run")), {p: 39 for p in range(PARTITIONS)})
        self.assertEqual(self.new_offsets(to("2026-01-02", "--dry-run")), {p: 40 for p in range(PARTITIONS)})
        to("2026-01-01T00:00:10Z", "--force")
        self.assertEqual(self.committed("by-time"),
                         {p: 10 for p in range(PARTITIONS)})


    def test_every_number_on_the_command_line_is_checked_with_one_line_and_exit_64(self):
        for args, expected in (
                (["reset-offsets", "g", "--topic", "it.in", "--to", "99999999999999999999"], "--to"),
                (["reset-offsets", "g", "--topic", "it.in", "--to", "-5"], "--to"),
                (["--timeout", "99999999999", "topic-stats", "it.in"], "--timeout"),
                (["--timeout", "99999999999999999999", "topic-stats", "it.in"], "--timeout"),
                (["--timeout", "-5", "topic-stats", "it.in"], "--timeout"),
                (["--timeout", "0", "topic-stats", "it.in"], "--timeout"),
                (["--timeout", "0x10", "topic-stats", "it.in"], "--timeout"),
                (["--timeout", "1e3", "topic-stats", "it.in"], "--timeout"),
                (["--timeout", "", "topic-stats", "it.in"], "--timeout")):
            result = self.admin(*args)
            self.assertEqual(result.returncode, 64, (args, result.stderr))
            lines = result.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, (args, result.stderr))
            self.assertIn(expected, lines[0])
            self.assertIn("kernel-admin", lines[0])
        # Within the ranges, numbers work.
        self.assertEqual(self.admin("--timeout", "5000", "topic-stats", "it.in").returncode, 0)
        offset = self.admin("reset-offsets", "g", "--topic", "it.in", "--to", "9223372036854775807", "--dry-run")
        self.assertEqual(offset.returncode, 0, offset.stderr)


    def test_tls_against_a_plaintext_listener_exits_77_at_once(self):
        _, ca = kh.self_signed_certificate()
        started = time.monotonic()
        result = self.admin("--timeout", "8000", "topic-stats", "it.in", KAFKA_CA_CERT=ca)
        self.assertEqual(result.returncode, 77, result.stderr)
        self.assertLess(time.monotonic() - started, 6)
        self.assertIn(f"TLS handshake with {self.broker.bootstrap} failed", result.stderr)


if __name__ == "__main__":
    unittest.main()
