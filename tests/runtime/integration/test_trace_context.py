"""W3C trace context across a chain of two kernels (docs/interop.md): confluent-kafka sends
inputs with a traceparent (and one without, one malformed); it-kernel A reads it.in and writes
it.out, it-kernel B reads it.out and writes it.final, on kernel-dev-broker. Each output
continues its input's trace with a span of its own, a dead letter too; the log lines of both
kernels (A in JSON, B in text) name the trace and the span, and A's /admin/status its last
failure's trace. Loopback only; every wait is a
condition with a deadline."""
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
import kernel_harness as kh  # noqa: E402

IT_KERNEL = os.environ["IT_KERNEL"]

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"
FAILED_TRACE = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def headers_of(message):
    return {name: value.decode() for name, value in (message.headers() or [])}


def trace_of(message):
    """(trace id, span id, flags) of a record's traceparent; fails the test if it has none."""
    found = TRACEPARENT.match(headers_of(message).get("traceparent", ""))
    assert found, f"no valid traceparent in {headers_of(message)}"
    return found.groups()


class TraceContextTests(unittest.TestCase):
    def test_two_kernels_continue_the_trace_and_log_it(self):
        with kh.DevBroker(["it.in", "it.out", "it.final", "it-kernel.dlq"]) as broker:
            a = kh.KernelProcess.on_broker(IT_KERNEL, broker.bootstrap, IT_LOG_EACH="1", KERNEL_LOG_FORMAT="json",
                                           KAFKA_CONSUMER_GROUP="trace-a", KERNEL_HTTP_PORT="0")
            b = kh.KernelProcess.on_broker(IT_KERNEL, broker.bootstrap, IT_LOG_EACH="1", KAFKA_TOPIC="it.out",
                                           KAFKA_OUTPUT_TOPIC="it.final", KAFKA_CONSUMER_GROUP="trace-b")
            with a, b:
                kh.produce(broker.bootstrap, "it.in", [
                    # Fails once in A: the retry's output still continues the input's trace.
                    ("traced", json.dumps({"n": 1, "fail": "transient", "times": 1}),
                     [("traceparent", f"00-{TRACE}-{PARENT}-01"), ("tracestate", "rojo=00f067aa0ba902b7")]),
                    ("untraced", json.dumps({"n": 2})),
                    ("malformed", json.dumps({"n": 3}), [("traceparent", f"ff-{TRACE}-{PARENT}-01"),
                                                          ("tracestate", "dropped=1")]),
                    ("failed", json.dumps({"n": 4, "fail": "permanent"}),
                     [("traceparent", f"00-{FAILED_TRACE}-{PARENT}-00")]),
                ])
                with kh.TopicReader(broker.bootstrap, "it.final") as reader:
                    finals = {m.key().decode(): m for m in reader.read_until(3, 20)}
                middles = {m.key().decode(): m for m in kh.read_topic(broker.bootstrap, "it.out", timeout=10)}
                dead = kh.read_topic(broker.bootstrap, "it-kernel.dlq", timeout=10)

                # The traced input: one trace through both kernels, a span per handling.
                trace_a, span_a, flags_a = trace_of(middles["traced"])
                trace_b, span_b, flags_b = trace_of(finals["traced"])
                self.assertEqual((trace_a, trace_b), (TRACE, TRACE))
                self.assertEqual((flags_a, flags_b), ("01", "01"))
                self.assertEqual(len({PARENT, span_a, span_b}), 3)
                self.assertEqual(headers_of(finals["traced"]).get("tracestate"), "rojo=00f067aa0ba902b7")

                # Without one, A starts a trace and B continues it; a malformed one is replaced.
                for key in ("untraced", "malformed"):
                    started, _, _ = trace_of(middles[key])
                    self.assertNotEqual(started, TRACE)
                    self.assertEqual(trace_of(finals[key])[0], started)
                    self.assertNotIn("tracestate", headers_of(middles[key]))

                # The dead letter continues its input's trace, unsampled as it came.
                self.assertEqual(len(dead), 1)
                dead_trace, dead_span, dead_flags = trace_of(dead[0])
                self.assertEqual((dead_trace, dead_flags), (FAILED_TRACE, "00"))

                # A's lines (JSON) while handling name the trace and its span: the handler's own,
                # the loop's retry and dead-letter lines; lines outside a handling do not.
                def a_lines():
                    return [json.loads(line) for line in list(a.lines) if line.startswith("{")]
                kh.wait_for(lambda: any(line["msg"] == "handling n=4" for line in a_lines()), 10, "A's last line")
                handled = [line for line in a_lines() if line["msg"] == "handling n=1"]
                self.assertEqual(len(handled), 2, a.lines)  # the attempt that failed and its retry
                for line in handled:
                    self.assertEqual((line.get("trace_id"), line.get("span_id")), (TRACE, span_a))
                retried = [line for line in a_lines() if line["msg"].startswith("transient error at it.in")]
                self.assertEqual([(line["trace_id"], line["span_id"]) for line in retried], [(TRACE, span_a)])
                dead_lettered = [line for line in a_lines() if line["msg"].startswith("dead-lettering it.in")]
                self.assertEqual([(line["trace_id"], line["span_id"]) for line in dead_lettered],
                                 [(FAILED_TRACE, dead_span)])
                self.assertTrue(any("subscribed to" in line["msg"] and "trace_id" not in line for line in a_lines()))

                # B's lines (text) end with the trace and B's span.
                kh.wait_for(lambda: b.log_contains("handling n=1"), 10, "B's line for n=1")
                b_line = next(line for line in list(b.lines) if "handling n=1" in line)
                self.assertTrue(b_line.endswith(f"trace_id={TRACE} span_id={span_b}"), b_line)

                # The malformed traceparent is counted once.
                status, metrics = kh.http("GET", a.http_url() + "/metrics")
                self.assertEqual(status, 200)
                self.assertIn("kernel_trace_context_invalid_total 1", metrics)

                # /admin/status names the last failure's trace: n=4's dead letter.
                def last_failure():
                    status, body = kh.http("GET", a.http_url() + "/admin/status")
                    failure = json.loads(body).get("last_failure") if status == 200 else None
                    return failure if failure and failure["offset"] == 3 else None
                failure = kh.wait_for(last_failure, 10, "A's status to name the failure of n=4")
                self.assertEqual((failure["class"], failure["trace_id"]), ("permanent", FAILED_TRACE))


if __name__ == "__main__":
    unittest.main()
