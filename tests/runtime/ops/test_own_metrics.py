"""A kernel's own metrics, end to end (docs/interop.md): it-kernel counts the orders it handles
by country in it_kernel_orders_total{country}, declared at start; a real Prometheus scrapes it and
`promtool query instant` reads the counts back, with the process and librdkafka client metrics
beside them; a flood of 10,000 countries keeps the metric at KERNEL_METRICS_MAX_SERIES series,
the rest counted in country="other", with one warning. Loopback only; every wait is a condition
with a deadline.

    IT_KERNEL=... DEV_BROKER=... PROMETHEUS=... PROMTOOL=... python3 -m unittest -v test_own_metrics
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import kernel_harness as kh  # noqa: E402
from test_process import BrokerTestCase  # noqa: E402

PROMETHEUS = os.environ.get("PROMETHEUS", "/usr/bin/prometheus")
PROMTOOL = os.environ.get("PROMTOOL", "/usr/bin/promtool")
FLOOD = 10_000


class OwnMetricsTests(BrokerTestCase):
    partitions = 2

    def promtool(self, server, expression):
        """What `promtool query instant` answers: {labels but the name, job and instance: value}."""
        ran = subprocess.run([PROMTOOL, "query", "instant", "-o", "json", server, expression],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(ran.returncode, 0, ran.stderr)
        answer = {}
        for sample in json.loads(ran.stdout):
            labels = {k: v for k, v in sample["metric"].items() if k not in ("__name__", "job", "instance")}
            answer[tuple(sorted(labels.items()))] = float(sample["value"][1])
        return answer

    def test_prometheus_reads_a_handlers_counts_by_label_and_a_flood_stays_at_the_bound(self):
        kernel = self.start(KERNEL_HTTP_PORT="0", KERNEL_HTTP_ADDRESS="127.0.0.1", KAFKA_CONSUMER_GROUP="own",
                            KERNEL_CLIENT_METRICS="true", KERNEL_CLIENT_METRICS_INTERVAL="1s")
        url = kernel.http_url()
        orders = [{"n": n, "country": country} for n, country in enumerate(["NL", "NL", "DE", "NL", "FR"])]
        reader = self.reader()
        self.produce([(f"k{o['n']}", json.dumps(o)) for o in orders])
        reader.read_until(len(orders), 60)
        # Then one message floods the label: 10,000 countries never seen.
        self.produce([("flood", json.dumps({"n": 99, "countries": [f"c{i}" for i in range(FLOOD)]}))])
        reader.read_until(len(orders) + 1, 60)

        # promtool accepts the whole exposition, the kernel's own metrics included.
        text = kh.wait_for(lambda: (lambda r: r[1] if "kernel_client_broker_rtt_seconds" in (r[1] or "") else None)(
            kh.http("GET", url + "/metrics")), 30, "librdkafka's statistics on /metrics")
        checked = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True,
                                 timeout=30)
        self.assertNotIn("error", (checked.stdout + checked.stderr).lower(), checked.stdout + checked.stderr)
        self.assertIn("# HELP it_kernel_orders_total Orders handled, by country", text)
        self.assertIn("# TYPE it_kernel_orders_total counter", text)

        with tempfile.TemporaryDirectory() as workdir:
            prometheus = kh.Prometheus(PROMETHEUS, workdir, [url.removeprefix("http://")])
            self.addCleanup(prometheus.stop)
            kh.wait_for(lambda: prometheus.query("count(it_kernel_orders_total) == 1000"), 60,
                        "Prometheus to scrape the kernel's own metric with its 1,000 series")
            counts = self.promtool(prometheus.url, 'it_kernel_orders_total{country=~"NL|DE|FR|other"}')
            # 3 countries, then 996 of the flood get a series; the other 9,004 share `other`.
            self.assertEqual(counts, {(("country", "NL"),): 3, (("country", "DE"),): 1, (("country", "FR"),): 1,
                                      (("country", "other"),): FLOOD - 996})
            self.assertEqual(self.promtool(prometheus.url, "count(it_kernel_orders_total)"), {(): 1000})
            self.assertEqual(self.promtool(prometheus.url, "sum(it_kernel_orders_total)"), {(): len(orders) + FLOOD})
            for expression in ("process_resident_memory_bytes > 1e6", "process_cpu_seconds_total > 0",
                               "process_open_fds > 3", "process_start_time_seconds > 1.6e9",
                               "kernel_client_broker_rtt_seconds", "kernel_client_producer_queue_messages",
                               "kernel_client_transmit_errors_total"):
                self.assertTrue(self.promtool(prometheus.url, expression), expression)
            fetch_queues = self.promtool(prometheus.url, "kernel_client_partition_fetch_queue_messages")
            self.assertEqual({dict(labels)["partition"] for labels in fetch_queues}, {"0", "1"})
        warnings = [line for line in kernel.lines if "it_kernel_orders_total reached 1000 series" in line]
        self.assertEqual(len(warnings), 1, warnings)
        self.assertEqual(kernel.stop(), 0)

    def test_an_invalid_declaration_stops_the_kernel_at_start_with_70(self):
        kernel = self.start(KERNEL_HTTP_PORT="0", KERNEL_HTTP_ADDRESS="127.0.0.1", IT_BAD_METRIC="1")
        self.assertEqual(kernel.wait(30), 70)
        self.assertTrue(kernel.log_contains('metric name "queue-depth" is not a valid Prometheus name'), kernel.lines)


if __name__ == "__main__":
    unittest.main()
