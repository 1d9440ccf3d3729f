"""postgres-sink as a process on kernel-dev-broker, writing to a PostgreSQL server the test
starts (postgres_server.py) and stops afterwards; confluent-kafka sends the orders and reads
the dead-letter topic, psql reads the table.

- A statement waiting on a lock ends at the handler deadline (KERNEL_HANDLER_TIMEOUT), and
  the batch is retried until it succeeds.
- Bad rows fail alone: a message that does not decode, a row the database refuses (a CHECK
  constraint) and a second event for an order already stored (a unique violation) are
  dead-lettered; the rest of their batch is stored, and an event delivered twice is one row.
- ORDERS (50,000; POSTGRES_SINK_ORDERS changes it) orders streamed in while the kernel is
  SIGKILLed three times and the database is stopped until the circuit breaker opens, then
  started again: every order is in the table exactly once, nothing is dead-lettered. It prints
  one line:
    POSTGRES-SINK orders=... kills=3 database_restarts=1 rows=... lost=0 doubled=0 written_again=... dead_letters=0 total_s=...
"""
import json
import os
import signal
import subprocess
import threading
import time
import unittest
import uuid

from processes import DevBroker, KernelProcess, wait_for
from postgres_server import PostgresServer

KERNEL = os.environ["POSTGRES_SINK"]
SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "schema.sql")
ORDERS = int(os.environ.get("POSTGRES_SINK_ORDERS", "50000"))
DLQ = "postgres-sink.dlq"
# Fast retries and a quick breaker so that an outage of a second or two shows all of it.
FAST = {"KERNEL_RETRY_BACKOFF": "50ms", "KERNEL_RETRY_BACKOFF_MAX": "500ms", "KERNEL_BREAKER_COOLDOWN": "500ms",
        "KERNEL_BREAKER_COOLDOWN_MAX": "1s", "KAFKA_CONSUMER_MAX_WAIT": "50ms"}


def order(n, **fields):
    return json.dumps({"id": f"o-{n}", "customer": f"c-{n % 97}", "amount": round(n * 0.37, 2), **fields})


class PostgresSinkTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.database = PostgresServer()
        cls.addClassCleanup(cls.database.remove)
        cls.database.psql("-f", SCHEMA)

    def setUp(self):
        self.database.query("TRUNCATE orders")
        self.kernels = []

    def tearDown(self):
        for kernel in self.kernels:
            if kernel.running():
                kernel.stop(signal.SIGKILL, timeout=10)

    def start_kernel(self, broker, **env):
        kernel = KernelProcess(KERNEL, broker.bootstrap, POSTGRES_SINK_DATABASE_URL=self.database.url, **env)
        self.kernels.append(kernel)
        return kernel

    def wait(self, condition, timeout, what):
        """wait_for(), with the end of each kernel's log when it times out."""
        try:
            return wait_for(condition, timeout, what)
        except AssertionError as error:
            logs = "\n".join(line for kernel in self.kernels for line in kernel.lines[-15:])
            raise AssertionError(f"{error}; the kernels logged, last:\n{logs}") from None

    def rows(self):
        return int(self.database.query("SELECT count(*) FROM orders"))

    def test_bad_rows_and_a_second_event_for_a_stored_order_are_dead_lettered_alone(self):
        self.database.query("INSERT INTO orders (event_id, order_id, customer, amount, source) "
                            "VALUES ('ev-old', 'o-taken', 'c-1', 1, 'earlier')")
        broker = DevBroker(["orders", DLQ], partitions=1)
        self.addCleanup(broker.stop)
        event = lambda name: [("event-id", name)]
        broker.produce("orders", [
            ("o-1", order(1), event("ev-1")),
            ("o-2", "not json", event("ev-2")),
            ("o-3", json.dumps({"id": "o-3", "customer": "c-3"}), event("ev-3")),           # no amount
            ("o-4", order(4, amount=-5), event("ev-4")),                                     # CHECK (amount >= 0)
            ("o-taken", order(5, id="o-taken"), event("ev-5")),                              # UNIQUE (order_id)
            ("o-6", order(6), event("ev-6")),
            ("o-1", order(1), event("ev-1")),                                                # the same event again: one row
            ("o-8", order(8), None),                                                         # no event-id
        ])
        kernel = self.start_kernel(broker, **FAST)
        self.wait(lambda: broker.size(DLQ) >= 4 and self.rows() >= 4, 60, "4 rows and 4 dead letters")
        self.assertEqual(kernel.stop(), 0)

        stored = self.database.query("SELECT order_id, event_id, deliveries FROM orders ORDER BY order_id")
        self.assertEqual(stored.splitlines(), ["o-1|ev-1|1", "o-6|ev-6|1", "o-8|orders[0]@7|1", "o-taken|ev-old|1"])
        dead = {m.key().decode(): dict(m.headers()) for m in broker.read(DLQ)}
        self.assertEqual(sorted(dead), ["o-2", "o-3", "o-4", "o-taken"])
        reasons = {key: headers["dlq-failure-reason"].decode() for key, headers in dead.items()}
        self.assertEqual(reasons, {"o-2": "deserialization_error", "o-3": "validation_error",
                                   "o-4": "validation_error", "o-taken": "validation_error"})
        self.assertIn('field "amount": missing', dead["o-3"]["dlq-error-message"].decode())
        self.assertIn("orders_amount_check", dead["o-4"]["dlq-error-message"].decode())
        self.assertIn("Key (order_id)=(o-taken) already exists", dead["o-taken"]["dlq-error-message"].decode())

    def test_a_statement_waiting_on_a_lock_ends_at_the_handler_deadline(self):
        # Another session holds the table: without a statement_timeout from context.deadline(),
        # the upsert would wait for it as long as it is held, and the call would never return.
        holder = subprocess.Popen(["psql", "-X", "-q", "-d", self.database.url], stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        self.addCleanup(holder.kill)
        holder.stdin.write("BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE; SELECT 1;\n")
        holder.stdin.flush()
        self.wait(lambda: self.database.query("SELECT count(*) FROM pg_locks WHERE relation = 'orders'::regclass "
                                              "AND mode = 'AccessExclusiveLock' AND granted") == "1", 30, "the lock")
        broker = DevBroker(["orders", DLQ], partitions=1)
        self.addCleanup(broker.stop)
        broker.produce("orders", [("o-1", order(1), [("event-id", "ev-1")])])
        kernel = self.start_kernel(broker, KERNEL_HANDLER_TIMEOUT="1s", **FAST)
        ended = ("transient error in the batch orders[0]@0", "probe orders[0]@0 failed")
        self.wait(lambda: sum(any(e in line for e in ended) for line in list(kernel.lines)) >= 2, 60,
                  "two attempts ended by the deadline while the lock is held")
        holder.stdin.write("COMMIT;\n")
        holder.stdin.close()
        self.wait(lambda: self.rows() == 1, 60, "the order stored once the lock is gone")
        self.assertEqual(kernel.stop(), 0)
        self.assertEqual(broker.size(DLQ), 0)

    def test_samples_run_as_the_readme_shows(self):
        samples = os.path.join(os.path.dirname(SCHEMA), "samples", "input.jsonl")
        done = subprocess.run([KERNEL, "--samples", samples], capture_output=True, text=True, timeout=120,
                              env={"PATH": os.environ.get("PATH", ""), "POSTGRES_SINK_DATABASE_URL": self.database.url})
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        printed = [json.loads(line) for line in done.stdout.splitlines()]
        self.assertEqual(sorted(r["key"] for r in printed), ["o-1", "o-3", "o-4", "o-5"])  # the dead letters
        self.assertEqual(self.database.query("SELECT order_id, amount FROM orders ORDER BY order_id").splitlines(),
                         ["o-1|12.50", "o-2|1299.00"])

    def test_sigkills_and_a_database_restart_store_every_order_exactly_once(self):
        started = time.monotonic()
        broker = DevBroker(["orders", DLQ], partitions=4)
        self.addCleanup(broker.stop)
        env = dict(FAST, KAFKA_CONSUMER_SESSION_TIMEOUT="3s", KAFKA_CONSUMER_HEARTBEAT_INTERVAL="500ms")
        kernel = self.start_kernel(broker, **env)
        # A stream of about 10 s, so that every fault lands while orders still arrive.
        records = [(f"o-{n}", order(n), [("event-id", str(uuid.uuid4()))]) for n in range(ORDERS)]
        stream = threading.Thread(target=broker.produce, args=("orders", records, max(100, ORDERS // 10)))
        stream.start()

        step = ORDERS // 5
        kills = restarts = 0
        for checkpoint in range(1, 5):
            self.wait(lambda: self.rows() >= checkpoint * step, 120, f"{checkpoint * step} rows")
            if checkpoint == 2:
                # The database goes away until the kernel's circuit breaker opens, then comes back.
                self.database.stop()
                self.wait(lambda: kernel.metric("kernel_circuit_breaker_state") == 1, 60, "the circuit to open")
                self.database.start()
                restarts += 1
                self.wait(lambda: kernel.metric("kernel_circuit_breaker_state") == 0, 60, "the circuit to close")
                continue
            self.assertEqual(kernel.stop(signal.SIGKILL, timeout=10), -signal.SIGKILL)
            kills += 1
            kernel = self.start_kernel(broker, **env)

        stream.join(timeout=120)
        self.assertFalse(stream.is_alive(), "the stream did not finish")
        self.wait(lambda: self.rows() >= ORDERS, 120, f"{ORDERS} rows")
        self.assertEqual(kernel.stop(), 0)

        stored = self.database.query("SELECT order_id FROM orders").splitlines()
        expected = {f"o-{n}" for n in range(ORDERS)}
        lost = len(expected - set(stored))
        doubled = len(stored) - len(set(stored))
        written_again = int(self.database.query("SELECT count(*) FROM orders WHERE deliveries > 1"))
        dead_letters = broker.size(DLQ)
        print(f"POSTGRES-SINK orders={ORDERS} kills={kills} database_restarts={restarts} rows={len(stored)} "
              f"lost={lost} doubled={doubled} written_again={written_again} dead_letters={dead_letters} "
              f"total_s={time.monotonic() - started:.1f}", flush=True)
        self.assertEqual((lost, doubled, dead_letters), (0, 0, 0))
        self.assertEqual(set(stored), expected)


if __name__ == "__main__":
    unittest.main()
