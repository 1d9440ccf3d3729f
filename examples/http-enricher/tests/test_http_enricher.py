"""http-enricher as a process on kernel-dev-broker, calling a customer service the test starts
(customer_service.py) and stops; confluent-kafka sends the orders and reads what came out.

- A 429's Retry-After is honoured: the retry comes a second later, not after the 20 ms backoff.
- ORDERS (1,200) orders of 40 customers, streamed over about 20 s while the service answers,
  then slows past the handler deadline, then answers 429 and 503 for 10 seconds, then recovers;
  with KERNEL_CONCURRENCY=8. Nothing is lost, only the orders of unknown customers (404) are
  dead-lettered, each customer's orders come out in the order they went in, the slow calls
  overlapped, connections were used again, and the circuit breaker opened and closed (seen in
  /admin/status and /metrics). It prints one line:
    HTTP-ENRICHER orders=... lost=0 duplicates=... dead_letters=3 requests=... connections=... max_concurrent=... breaker=closed,open,...,closed total_s=...
"""
import json
import os
import signal
import subprocess
import threading
import time
import unittest

from customer_service import CustomerService
from processes import DevBroker, KernelProcess, wait_for

KERNEL = os.environ["HTTP_ENRICHER"]
ORDERS = int(os.environ.get("HTTP_ENRICHER_ORDERS", "1200"))
CUSTOMERS = 40
TOPICS = ("orders", "orders.enriched", "http-enricher.dlq")
PARTITIONS = 4


def order(seq, customer):
    return (customer, json.dumps({"id": f"o-{seq}", "customer": customer, "seq": seq}),
            [("correlation-id", f"corr-{seq}")])


class HttpEnricherTests(unittest.TestCase):
    def setUp(self):
        self.service = CustomerService(slow_seconds=2.0)
        self.addCleanup(self.service.stop)
        self.broker = DevBroker(TOPICS, PARTITIONS)
        self.addCleanup(self.broker.stop)
        self.kernel = None

    def tearDown(self):
        if self.kernel and self.kernel.running():
            self.kernel.stop(signal.SIGKILL, timeout=10)

    def start_kernel(self, **env):
        self.kernel = KernelProcess(KERNEL, self.broker.bootstrap, HTTP_ENRICHER_SERVICE_URL=self.service.url,
                                    KERNEL_RETRY_BACKOFF="20ms", KAFKA_CONSUMER_MAX_WAIT="50ms", **env)
        return self.kernel

    def wait(self, condition, timeout, what):
        """wait_for(), with the end of the kernel's log when it times out."""
        try:
            return wait_for(condition, timeout, what)
        except AssertionError as error:
            logs = "\n".join(self.kernel.lines[-20:]) if self.kernel else ""
            raise AssertionError(f"{error}; the kernel logged, last:\n{logs}") from None

    def test_a_429_is_retried_after_its_retry_after(self):
        self.service.script([429])
        self.start_kernel(KERNEL_BREAKER_THRESHOLD="0")
        self.broker.produce("orders", [order(1, "c-1")])
        self.wait(lambda: self.broker.size("orders.enriched") == 1, 30, "the enriched order")
        self.assertEqual(self.kernel.stop(), 0)
        attempts = [r for r in self.service.requests if r.correlation_id == "corr-1"]
        self.assertEqual([r.status for r in attempts], [429, 200])
        self.assertGreaterEqual(attempts[1].at - attempts[0].at, 0.9)  # Retry-After: 1, not the 20 ms backoff

    def test_samples_run_as_the_readme_shows(self):
        samples = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "samples", "input.jsonl")
        done = subprocess.run([KERNEL, "--samples", samples], capture_output=True, text=True, timeout=120,
                              env={"PATH": os.environ.get("PATH", ""), "HTTP_ENRICHER_SERVICE_URL": self.service.url})
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])  # each sample became what it expects
        enriched = [json.loads(line)["value"] for line in done.stdout.splitlines()
                    if json.loads(line)["topic"] == "orders.enriched"]
        self.assertEqual(sorted(o["customer_details"]["name"] for o in enriched),
                         ["Customer c-1", "Customer c-1", "Customer c-2"])

    def test_a_slow_then_failing_service_loses_nothing_and_the_breaker_opens_and_closes(self):
        started = time.monotonic()
        kernel = self.start_kernel(KERNEL_CONCURRENCY="8", KERNEL_HANDLER_TIMEOUT="500ms",
                                   KERNEL_RETRY_BACKOFF_MAX="2s", KERNEL_BREAKER_COOLDOWN="1s",
                                   KERNEL_BREAKER_COOLDOWN_MAX="2s")
        records = [order(seq, f"c-{seq % CUSTOMERS}") for seq in range(ORDERS)]
        unknown = {ORDERS // 4: "unknown-1", ORDERS // 2: "unknown-2", 3 * ORDERS // 4: "unknown-3"}
        for seq, customer in unknown.items():
            records[seq] = order(seq, customer)
        stream = threading.Thread(target=self.broker.produce, args=("orders", records, ORDERS / 20))
        stream.start()
        circuit = []  # each state /admin/status showed, in turn
        watching = threading.Event()
        watcher = threading.Thread(target=self.watch_circuit, args=(kernel, circuit, watching))
        watcher.start()
        try:
            self.wait(lambda: len(self.service.requests) >= ORDERS // 5, 60, "answers before the slowdown")
            self.service.set_mode("slow")
            self.wait(lambda: "open" in circuit, 60, "the circuit to open while the service is slow")
            self.service.set_mode("throttled")
            throttled_from = time.monotonic()
            self.wait(lambda: time.monotonic() - throttled_from >= 10, 15, "10 seconds of 429 and 503")
            self.service.set_mode("ok")
            stream.join(timeout=60)
            self.assertFalse(stream.is_alive(), "the stream did not finish")
            expected = ORDERS - len(unknown)
            self.wait(lambda: self.broker.size("orders.enriched") >= expected, 90, f"{expected} enriched orders")
            self.wait(lambda: self.broker.size("http-enricher.dlq") >= len(unknown), 30, "the unknown customers")
            self.wait(lambda: circuit and circuit[-1] == "closed", 30, "the circuit to close")
        finally:
            watching.set()
            watcher.join(timeout=10)
        transitions = kernel.metric("kernel_circuit_breaker_transitions_total")
        self.assertEqual(kernel.stop(), 0)

        outputs = self.broker.read("orders.enriched")
        seqs = [json.loads(m.value())["seq"] for m in outputs]
        lost = len(set(range(ORDERS)) - set(unknown) - set(seqs))
        dead = self.broker.read("http-enricher.dlq")
        print(f"HTTP-ENRICHER orders={ORDERS} lost={lost} duplicates={len(seqs) - len(set(seqs))} "
              f"dead_letters={len(dead)} requests={len(self.service.requests)} "
              f"connections={self.service.connections()} max_concurrent={self.service.max_concurrent} "
              f"breaker={','.join(circuit)} transitions={transitions:.0f} total_s={time.monotonic() - started:.1f}",
              flush=True)
        self.assertEqual(lost, 0)
        self.assertEqual(sorted(m.key().decode() for m in dead), sorted(unknown.values()))
        self.assertEqual({dict(m.headers())["dlq-error-class"] for m in dead}, {b"permanent"})
        # Each customer's orders came out in the order they went in (one customer, one partition).
        by_customer = {}
        for message in outputs:
            document = json.loads(message.value())
            by_customer.setdefault(document["customer"], []).append(document["seq"])
        for customer, sequence in by_customer.items():
            self.assertEqual(sequence, sorted(sequence), customer)
        self.assertGreaterEqual(self.service.max_concurrent, 4)  # slow calls overlapped
        self.assertLess(self.service.connections() * 4, len(self.service.requests))  # kept alive
        self.assertIn("open", circuit)
        self.assertGreaterEqual(transitions, 3)  # open, half-open, closed at least

    @staticmethod
    def watch_circuit(kernel, circuit, stop):
        """Records each change of /admin/status's circuit state until `stop` is set."""
        while not stop.wait(0.1):  # sampling the state ten times a second
            try:
                state = (kernel.status().get("circuit") or {}).get("state")
            except OSError:
                continue  # not serving yet
            if state and (not circuit or circuit[-1] != state):
                circuit.append(state)


if __name__ == "__main__":
    unittest.main()
