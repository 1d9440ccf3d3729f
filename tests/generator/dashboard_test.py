"""The Grafana dashboard and the Prometheus alerting rules new-kernel generates
(deploy/grafana-dashboard.json, deploy/alerts.yaml), against a real Prometheus scraping running
kernels: every panel's expression returns series, the kernel variable offers the kernel, and
every alerting rule passes promtool, loads into Prometheus and fires under the traffic meant
to fire it.

The files are generated for a kernel named it-kernel, the name of the test kernel that runs.
That kernel (with KERNEL_DELIVERY=exactly_once, so the transactions panel has transactions)
gets messages that succeed, are retried, are dead-lettered, and then one that fails until the
circuit breaker opens while more messages wait behind it (the lag grows). A second it-kernel
never reaches its broker and stays not ready. Prometheus scrapes both and evaluates the rules
every second. Loopback only; every wait is a condition with a deadline.

    NEW_KERNEL=... IT_KERNEL=... DEV_BROKER=... PROMETHEUS=... PROMTOOL=... \
        python3 -m unittest -v dashboard_test
"""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "runtime", "integration"))
import kernel_harness as kh  # noqa: E402
import test_process as tp  # noqa: E402  (BrokerTestCase and it-kernel)

NEW_KERNEL = os.environ["NEW_KERNEL"]
PROMETHEUS = os.environ["PROMETHEUS"]
PROMTOOL = os.environ["PROMTOOL"]
KERNEL = "it-kernel"  # spec.name of the test kernel
PARTITIONS = 2
# What Grafana puts in place of its variables before it asks Prometheus.
GRAFANA_VARIABLES = {"$kernel": KERNEL, "${kernel}": KERNEL, "$__rate_interval": "1m"}


def panels_of(dashboard):
    """Every panel, those inside collapsed rows included."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


class DashboardTests(tp.BrokerTestCase):
    partitions = PARTITIONS

    def start_kernel(self, bootstrap, **env):
        kernel = tp.ItKernel.start(bootstrap, KERNEL_HTTP_PORT="0", KERNEL_HTTP_ADDRESS="127.0.0.1", **env)
        self.addCleanup(kernel.close)
        return kernel.http_url().removeprefix("http://")

    def test_every_panel_has_series_and_every_alert_fires_against_a_real_prometheus(self):
        with tempfile.TemporaryDirectory() as workdir:
            generated = os.path.join(workdir, "kernel")
            subprocess.run([NEW_KERNEL, KERNEL, "--topic", "it.in", "--output-topic", "it.out", "--dir", generated,
                            "--no-git"], check=True, capture_output=True, timeout=60)
            with open(os.path.join(generated, "deploy", "grafana-dashboard.json")) as f:
                dashboard = json.load(f)
            rules = os.path.join(generated, "deploy", "alerts.yaml")
            checked = subprocess.run([PROMTOOL, "check", "rules", rules], capture_output=True, text=True, timeout=30)
            self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)

            working = self.start_kernel(self.broker.bootstrap, KERNEL_DELIVERY="exactly_once",
                                        KAFKA_CONSUMER_GROUP="dashboard", KAFKA_CONSUMER_MAX_RETRIES="5",
                                        KERNEL_RETRY_BACKOFF="50ms", KERNEL_RETRY_JITTER="0",
                                        KERNEL_BREAKER_THRESHOLD="3", KERNEL_BREAKER_COOLDOWN="5m")
            # Nothing listens there: it keeps trying to start, not ready, serving its metrics.
            stranded = self.start_kernel(f"127.0.0.1:{kh.free_port()}", KERNEL_STARTUP_TIMEOUT="5m")
            prometheus = kh.Prometheus(PROMETHEUS, workdir, [working, stranded], rules)
            try:
                self.drive_and_check(prometheus, dashboard, rules, working)
            finally:
                prometheus.stop()

    def drive_and_check(self, prometheus, dashboard, rules, working):
        # The counters' first samples are scraped at 0, before any traffic, so that increase()
        # and rate() see everything that follows.
        kh.wait_for(lambda: len(prometheus.query(f'kernel_dead_letters_total{{instance="{working}"}}')) > 0, 60,
                    "Prometheus to scrape the kernel's dead-letter counters")
        self.produce(
                   [(f"ok{n}", json.dumps({"n": n})) for n in range(20)]
                   + [(f"perm{n}", json.dumps({"n": 100 + n, "fail": "permanent"})) for n in range(2)]
                   + [("poison", "not json")]
                   + [(f"again{n}", json.dumps({"n": 200 + n, "fail": "transient", "times": 1})) for n in range(2)])
        kh.wait_for(lambda: prometheus.query(
            f'sum(kernel_messages_handled_total{{instance="{working}",outcome="success"}}) >= 22'), 60,
            "Prometheus to see the first messages handled")
        # A message that always fails transiently: the third failure in a row opens the circuit
        # breaker, which then pauses every partition; what comes next waits, and the lag grows.
        self.produce([("down", json.dumps({"n": 300, "fail": "transient"}))])
        kh.wait_for(lambda: prometheus.query(f'kernel_circuit_breaker_state{{instance="{working}"}} == 1'), 60,
                    "the circuit breaker to open")
        self.produce([(f"late{n}", json.dumps({"n": 400 + n})) for n in range(40)])

        with open(rules) as f:
            alert_names = re.findall(r"^\s*- alert: (\w+)$", f.read(), re.MULTILINE)
        self.assertEqual(len(alert_names), 4, alert_names)

        inactive = set(alert_names)

        def every_alert_active():
            data = prometheus.api("alerts")
            inactive.difference_update(alert["labels"]["alertname"] for alert in (data or {}).get("alerts", [])
                                       if alert["labels"].get("kernel") == KERNEL
                                       and alert["state"] in ("pending", "firing"))
            return not inactive
        try:
            kh.wait_for(every_alert_active, 60, "every alert of deploy/alerts.yaml to be pending or firing")
        except AssertionError as error:
            self.fail(f"{error}; never active: {sorted(inactive)}")
        groups = prometheus.api("rules")["groups"]
        self.assertEqual([rule["name"] for group in groups for rule in group["rules"]], alert_names)
        for group in groups:
            for rule in group["rules"]:
                self.assertEqual(rule["health"], "ok", rule)

        variable = next(v for v in dashboard["templating"]["list"] if v["name"] == "kernel")
        self.assertEqual(variable["query"]["query"], "label_values(kernel_info, kernel)")
        self.assertEqual(variable["current"]["value"], KERNEL)
        self.assertIn(KERNEL, prometheus.api("label/kernel/values", **{"match[]": "kernel_info"}))

        expressions = []
        for panel in panels_of(dashboard):
            for target in panel.get("targets", []):
                expression = target["expr"]
                for variable_name, value in GRAFANA_VARIABLES.items():
                    expression = expression.replace(variable_name, value)
                self.assertNotIn("$", expression, f"{panel['title']}: a variable Grafana would fill in")
                expressions.append((panel["title"], expression))
        self.assertGreaterEqual(len(expressions), 15)
        for title, expression in expressions:
            with self.subTest(panel=title, expr=expression):
                self.assertTrue(prometheus.query(expression), f"{title}: {expression} returns no series")

        # The panels show the traffic by its reasons, not only zeros.
        def reasons(expression):
            return {s["metric"].get("reason") for s in prometheus.query(expression) if float(s["value"][1]) > 0}
        self.assertLessEqual({"processing_error", "deserialization_error"},
                             reasons(f'kernel_dead_letters_total{{instance="{working}"}}'))
        self.assertIn("processing_error", reasons(f'kernel_retries_total{{instance="{working}"}}'))
        self.assertTrue(prometheus.query(f'kernel_transactions_total{{instance="{working}",result="committed"}} > 0'))
