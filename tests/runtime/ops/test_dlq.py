"""kernel-admin dlq list|stats|replay against kernel-dev-broker, checked with confluent-kafka (a
client no one here wrote). Dead letters are written by the test with the headers a kernel gives
them, and once by a real kernel. Loopback only; every wait is a condition with a deadline."""
import base64
import json
import os
import pty
import re
import struct
import subprocess
import sys
import tempfile
import time
import unittest
from datetime import datetime, timedelta, timezone

from confluent_kafka.admin import AdminClient

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
import kernel_harness as kh  # noqa: E402

KERNEL_ADMIN = os.environ["ADMIN_TOOL"]
IT_KERNEL = os.environ["IT_KERNEL"]
PARTITIONS = 2
DLQ = "it-kernel.dlq"
TOPICS = ("it.in", "it.out", DLQ, "orders", "team.dead", "team.target", "team.orders")
RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def stamp(when):
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def dead_letter_headers(original_topic, partition, offset, reason, error_type, message, failed_at, extra=()):
    """A kernel's dead-letter headers after the original's (`extra`)."""
    return [*extra,
            ("dlq-original-topic", original_topic.encode()),
            ("dlq-original-partition", str(partition).encode()),
            ("dlq-original-offset", str(offset).encode()),
            ("dlq-original-timestamp", stamp(failed_at - timedelta(seconds=1)).encode()),
            ("dlq-kernel", b"it-kernel"),
            ("dlq-failed-at", stamp(failed_at).encode()),
            ("dlq-error-class", b"permanent"),
            ("dlq-failure-reason", reason.encode()),
            ("dlq-error-type", error_type.encode()),
            ("dlq-error-message", message.encode()),
            ("dlq-retry-count", b"0")]


def produce(bootstrap, topic, records):
    """records: (partition, key, value, headers); waits for every acknowledgement."""
    kh.produce(bootstrap, topic, [dict(zip(("partition", "key", "value", "headers"), record)) for record in records])


def high_watermarks(bootstrap, topic):
    return kh.watermarks(bootstrap, topic, PARTITIONS)


def read_all(bootstrap, topic):
    """Every message of the topic now, in (partition, offset) order."""
    return kh.read_topic(bootstrap, topic, PARTITIONS, timeout=30)


class DlqTests(unittest.TestCase):
    def setUp(self):
        self.broker = kh.DevBroker(TOPICS, PARTITIONS)
        self.addCleanup(self.broker.stop)
        self.now = datetime.now(timezone.utc)

    def admin(self, *args, **env):
        # surrogateescape: bytes that are not UTF-8 reach the assertions instead of failing the decoding.
        return subprocess.run([KERNEL_ADMIN, *args], capture_output=True, text=True, timeout=90,
                              errors="surrogateescape", cwd=tempfile.gettempdir(),
                              env=kh.clean_environment(KAFKA_BOOTSTRAP_SERVERS=self.broker.bootstrap, **env))

    def ok(self, *args, **env):
        result = self.admin(*args, **env)
        self.assertEqual(result.returncode, 0, (args, result.stdout, result.stderr))
        return result

    def topics(self):
        return set(AdminClient({"bootstrap.servers": self.broker.bootstrap}).list_topics(timeout=10).topics)

    def seed(self, topic=DLQ, original="orders"):
        """Five dead letters of various reasons, keys, ages and bytes; returns them by name."""
        old, recent = self.now - timedelta(hours=3), self.now - timedelta(minutes=10)
        records = {
            "a": (0, b"k1", b'{"n": 1}', dead_letter_headers(
                original, 1, 5, "validation_error", "kernel::PermanentError", "field qty: " + "x" * 100, old,
                extra=[("trace", b"t1"), ("empty", b""), ("nothing", None)])),
            "b": (0, b"k2", b"not json", dead_letter_headers(
                original, 0, 7, "deserialization_error", "kernel::PermanentError", "not JSON", recent)),
            "c": (1, None, b"\xff\xfe\x00binary", dead_letter_headers(
                original, 1, 9, "retries_exhausted", "std::runtime_error", "timeout\nafter 3 tries", recent,
                extra=[("bin", b"\xc3\x28"), ("dlq-replay-count", b"2"), ("dlq-replayed-at", b"2026-01-01T00:00:00.000Z")])),
            "d": (1, b"k1", b'{"n": 4}', dead_letter_headers(
                original, 0, 11, "validation_error", "kernel::PermanentError", "field id: missing", recent)),
            "e": (1, b"key with space", b"", dead_letter_headers(
                original, 1, 12, "processing_error", "std::out_of_range", "map::at", old)),
        }
        produce(self.broker.bootstrap, topic, records.values())
        return records

    def listed(self, *args):
        """(partition, offset, key) of each line `dlq list` prints, and its columns."""
        result = self.ok("dlq", "list", DLQ, *args)
        lines = result.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["PARTITION", "OFFSET", "KEY", "FAILED-AT", "ORIGINAL", "REASON",
                                            "ERROR-TYPE", "ERROR-MESSAGE"])
        return [re.split(r"\s{2,}", line, maxsplit=7) for line in lines[1:]]

    def test_list_prints_one_line_per_dead_letter_and_every_filter_narrows_it(self):
        self.seed()
        rows = self.listed()
        self.assertEqual([(r[0], r[1], r[2]) for r in rows],
                         [("0", "0", "k1"), ("0", "1", "k2"), ("1", "0", "-"), ("1", "1", "k1"),
                          ("1", "2", '"key with space"')])
        first = rows[0]
        self.assertEqual(first[3], stamp(self.now - timedelta(hours=3)))
        self.assertEqual(first[4:7], ["orders[1]@5", "validation_error", "kernel::PermanentError"])
        self.assertEqual(first[7], ("field qty: " + "x" * 100)[:80] + "...")  # the first 80 characters
        self.assertEqual(rows[2][7], r"timeout\nafter 3 tries")  # one line per record

        def keys(*args):
            return [(r[0], r[1]) for r in self.listed(*args)]
        self.assertEqual(keys("--reason", "validation_error"), [("0", "0"), ("1", "1")])
        self.assertEqual(keys("--reason", "validation_error", "--reason", "processing_error"),
                         [("0", "0"), ("1", "1"), ("1", "2")])
        self.assertEqual(keys("--key", "k1"), [("0", "0"), ("1", "1")])
        self.assertEqual(keys("--key", "k1", "--reason", "validation_error", "--since", "1h"), [("1", "1")])
        self.assertEqual(keys("--since", "1h"), [("0", "1"), ("1", "0"), ("1", "1")])
        self.assertEqual(keys("--until", "1h"), [("0", "0"), ("1", "2")])
        self.assertEqual(keys("--since", stamp(self.now - timedelta(hours=4)), "--until",
                              stamp(self.now - timedelta(hours=2))), [("0", "0"), ("1", "2")])
        offset = (self.now - timedelta(minutes=30)).astimezone(timezone(timedelta(hours=2)))
        self.assertEqual(keys("--since", offset.strftime("%Y-%m-%dT%H:%M:%S+02:00")), [("0", "1"), ("1", "0"), ("1", "1")])
        self.assertEqual(keys("--reason", "timeout"), [])
        self.assertEqual(len(self.listed("--limit", "2")), 2)

    def test_list_json_round_trips_every_byte(self):
        """dlq list --json lines, fed to kernel-dev-broker --seed, give back every key, value and
        header byte for byte and in order: JSON in any spelling, MessagePack that re-encodes
        otherwise (a float64, a bin), a header name given twice."""
        self.seed()
        recent = self.now - timedelta(minutes=5)
        msgpack = b"\x82\xa5price\xcb" + struct.pack(">d", 1.5) + b"\xa3raw\xc4\x02\x00\x01"
        produce(self.broker.bootstrap, DLQ, [
            (0, b"m", msgpack, dead_letter_headers(
                "orders", 0, 20, "validation_error", "kernel::PermanentError", "price", recent,
                extra=[("content-type", b"application/msgpack")])),
            (1, b"j", b'{"b": 1.0, "a": 1e2}', dead_letter_headers(
                "orders", 1, 21, "validation_error", "kernel::PermanentError", "b", recent,
                extra=[("trace", b"t1"), ("trace", b"t2")]))])
        lines = self.ok("dlq", "list", DLQ, "--json").stdout.splitlines()
        originals = {(m.partition(), m.offset()): m for m in read_all(self.broker.bootstrap, DLQ)}
        self.assertEqual(len(lines), 7)

        def as_bytes(shown):
            return base64.b64decode(shown["base64"]) if isinstance(shown, dict) else shown.encode()
        for line in lines:
            record = json.loads(line)
            message = originals[(record["partition"], record["offset"])]
            self.assertEqual(record["topic"], DLQ)
            self.assertRegex(record["timestamp"], RFC3339_MS)
            key = base64.b64decode(record["key_base64"]) if "key_base64" in record else \
                (record["key"].encode() if record["key"] is not None else None)
            self.assertEqual(key, message.key())
            # A value is shown decoded only when that reads back as its bytes; otherwise text as a
            # string, other bytes as value_base64 (a MessagePack document beside it, to read).
            if "value_base64" in record:
                value = base64.b64decode(record["value_base64"])
            elif isinstance(record["value"], str):
                value = record["value"].encode()
            else:
                value = json.dumps(record["value"], separators=(",", ":"), ensure_ascii=False).encode()
            self.assertEqual(value, message.value())
            # An object of headers; a list of [name, value] pairs when a name repeats.
            pairs = record["headers"].items() if isinstance(record["headers"], dict) else record["headers"]
            headers = [(as_bytes(name).decode(), None if v is None else as_bytes(v)) for name, v in pairs]
            self.assertEqual(headers, message.headers())
        shown = {json.loads(line)["key"]: json.loads(line) for line in lines}
        self.assertEqual(shown["m"]["value"], {"price": 1.5, "raw": {"bytes": [0, 1], "subtype": None}})
        self.assertEqual(shown["j"]["value"], '{"b": 1.0, "a": 1e2}')
        # The format kernel-dev-broker --seed reads back.
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as seed_file:
            seed_file.write("\n".join(lines) + "\n")
        try:
            with kh.DevBroker(["copy"], PARTITIONS, args=["--seed", f"copy={seed_file.name}"]) as copy:
                def content(messages):
                    return sorted((m.key() or b"", m.value(), m.headers()) for m in messages)
                self.assertEqual(content(read_all(copy.bootstrap, "copy")), content(originals.values()))
        finally:
            os.unlink(seed_file.name)

    def test_stats_count_by_reason_original_topic_and_error_type(self):
        self.seed()
        produce(self.broker.bootstrap, DLQ, [(0, b"z", b"{}", dead_letter_headers(
            "it.in", 0, 1, "output_failed", "kernel::PermanentError", "too large", self.now - timedelta(minutes=1)))])
        report = json.loads(self.ok("dlq", "stats", DLQ, "--json").stdout)
        self.assertEqual(report["dead_letters"], 6)
        self.assertEqual(report["by_reason"], {"validation_error": 2, "deserialization_error": 1,
                                               "retries_exhausted": 1, "processing_error": 1, "output_failed": 1})
        self.assertEqual(report["by_original_topic"], {"orders": 5, "it.in": 1})
        self.assertEqual(report["by_error_type"], {"kernel::PermanentError": 4, "std::runtime_error": 1,
                                                   "std::out_of_range": 1})
        self.assertEqual(report["oldest"], stamp(self.now - timedelta(hours=3)))
        self.assertEqual(report["newest"], stamp(self.now - timedelta(minutes=1)))
        self.assertEqual(json.loads(self.ok("--json", "dlq", "stats", DLQ, "--since", "1h").stdout)["dead_letters"], 4)
        text = self.ok("dlq", "stats", DLQ).stdout
        self.assertIn(f"{DLQ}: 6 dead letters, oldest {report['oldest']}, newest {report['newest']}", text)
        self.assertRegex(text, r"(?m)^validation_error\s+2$")
        self.assertRegex(text, r"(?m)^orders\s+5$")
        self.assertRegex(text, r"(?m)^std::out_of_range\s+1$")
        empty = self.ok("dlq", "stats", "it.out")
        self.assertIn("it.out: 0 dead letters", empty.stdout)

    def test_the_human_format_escapes_what_a_terminal_would_act_on_and_json_keeps_it(self):
        """A dead letter's key and headers come from anyone: printed raw, ESC, NUL or a newline
        would recolour, clear or forge lines of the operator's terminal."""
        message = b"first\nsecond\x1b[31m red\x00 nul \\ slash \xc2\x9b csi \xff byte"
        headers = dead_letter_headers("orders\x07", 0, 1, "validation_error\r", "Bad\x1b[31mType", "", self.now)
        produce(self.broker.bootstrap, DLQ, [
            (0, b"k\x1b[2J\n", b"{}", [("note", b"\x1b]0;title\x07"), *headers]),
            # The message as bytes: not all of it is UTF-8.
            (0, b"k\x1b[2J\n", b"{}", [(n, message if n == "dlq-error-message" else v) for n, v in headers])])
        escaped_message = r"first\nsecond\x1b[31m red\0 nul \\ slash \u009b csi \xff byte"

        def terminal_safe(text):
            return not any(ord(c) < 0x20 and c != "\n" or ord(c) == 0x7f for c in text)

        listed = self.ok("dlq", "list", DLQ)
        self.assertTrue(terminal_safe(listed.stdout + listed.stderr), repr(listed.stdout))
        lines = listed.stdout.splitlines()
        self.assertEqual(len(lines), 3, lines)  # the header and one line per dead letter
        row = re.split(r"\s{2,}", lines[2], maxsplit=7)
        self.assertEqual(row[2], r'"k\x1b[2J\n"')
        self.assertEqual(row[4:7], [r"orders\x07[0]@1", r"validation_error\r", r"Bad\x1b[31mType"])
        self.assertEqual(row[7], escaped_message)

        stats = self.ok("dlq", "stats", DLQ)
        self.assertTrue(terminal_safe(stats.stdout + stats.stderr), repr(stats.stdout))
        self.assertRegex(stats.stdout, r"(?m)^validation_error\\r\s+2$")
        self.assertRegex(stats.stdout, r"(?m)^orders\\x07\s+2$")
        self.assertRegex(stats.stdout, r"(?m)^Bad\\x1b\[31mType\s+2$")

        dry = self.ok("dlq", "replay", DLQ, "--to", "orders", "--dry-run")
        self.assertTrue(terminal_safe(dry.stdout + dry.stderr), repr(dry.stdout))
        self.assertIn(r'(key "k\x1b[2J\n")', dry.stdout)

        # --json keeps every byte: the machine reads it, not a terminal.
        records = [json.loads(line) for line in self.ok("dlq", "list", DLQ, "--json").stdout.splitlines()]
        self.assertEqual([r["key"] for r in records], ["k\x1b[2J\n"] * 2)
        self.assertEqual(records[0]["headers"]["note"], "\x1b]0;title\x07")
        self.assertEqual(records[0]["headers"]["dlq-error-type"], "Bad\x1b[31mType")
        self.assertEqual(base64.b64decode(records[1]["headers"]["dlq-error-message"]["base64"]), message)
        report = json.loads(self.ok("dlq", "stats", DLQ, "--json").stdout)
        self.assertEqual(report["by_error_type"], {"Bad\x1b[31mType": 2})
        self.assertEqual(report["by_original_topic"], {"orders\x07": 2})

    def check_replayed(self, message, letter, count):
        """A replayed message: the dead letter's key, value and original headers, byte for byte."""
        partition, key, value, headers = letter
        self.assertEqual((message.key(), message.value()), (key, value))
        original = [(n, v) for n, v in headers if not n.startswith("dlq-")]
        self.assertEqual(message.headers()[:-2], original)
        (at_name, at), (count_name, replay_count) = message.headers()[-2:]
        self.assertEqual((at_name, count_name), ("dlq-replayed-at", "dlq-replay-count"))
        self.assertRegex(at.decode(), RFC3339_MS)
        replayed_at = datetime.strptime(at.decode(), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        self.assertLess(abs((replayed_at - datetime.now(timezone.utc)).total_seconds()), 120)
        self.assertEqual(replay_count, str(count).encode())

    def test_replay_sends_byte_for_byte_once_and_remembers_per_filter(self):
        letters = self.seed()
        dry = self.ok("dlq", "replay", DLQ, "--dry-run")
        self.assertIn("dry run: would replay 5, skipped 0 by filter, 0 already replayed", dry.stdout)
        self.assertIn("would replay it-kernel.dlq[0]@0 (key k1) to orders[1]", dry.stdout)
        self.assertEqual(high_watermarks(self.broker.bootstrap, "orders"), {0: 0, 1: 0})  # nothing sent

        first = self.ok("dlq", "replay", DLQ, "--reason", "validation_error")
        self.assertIn("replayed 2, skipped 3 by filter, 0 already replayed", first.stdout)
        group = re.search(r"\(group ([^)]+)\)", first.stdout).group(1)
        self.assertTrue(group.startswith("kernel-admin.dlq-replay.it-kernel.dlq.original."), group)
        replayed = read_all(self.broker.bootstrap, "orders")
        self.assertEqual(len(replayed), 2)
        # Back to the partition each came from.
        by_partition = {m.partition(): m for m in replayed}
        self.check_replayed(by_partition[1], letters["a"], 1)
        self.check_replayed(by_partition[0], letters["d"], 1)
        self.assertIn(("nothing", None), by_partition[1].headers())  # a null header stays null
        self.assertIn(("empty", b""), by_partition[1].headers())  # an empty one stays empty

        again = self.ok("dlq", "replay", DLQ, "--reason", "validation_error")
        self.assertIn("replayed 0, skipped 3 by filter, 2 already replayed", again.stdout)
        self.assertEqual(sum(high_watermarks(self.broker.bootstrap, "orders").values()), 2)  # nothing sent

        # Another filter set is another group: it sees every record, those sent above included.
        every = self.ok("dlq", "replay", DLQ)
        self.assertIn("replayed 5, skipped 0 by filter, 0 already replayed", every.stdout)
        replayed = read_all(self.broker.bootstrap, "orders")
        self.assertEqual(len(replayed), 7)
        newest = {(m.key(), m.value()): m for m in replayed[::-1]}
        self.check_replayed(newest[(None, letters["c"][2])], letters["c"], 3)  # it said 2 before
        self.check_replayed(newest[(b"key with space", b"")], letters["e"], 1)
        self.assertTrue(all(not n.startswith("dlq-") or n in ("dlq-replayed-at", "dlq-replay-count")
                            for m in replayed for n, _ in m.headers()))

        nothing = self.ok("dlq", "replay", DLQ)
        self.assertIn("replayed 0, skipped 0 by filter, 5 already replayed", nothing.stdout)
        self.assertIn("dry run: would replay 0, skipped 0 by filter, 5 already replayed",
                      self.ok("dlq", "replay", DLQ, "--dry-run").stdout)
        self.assertIn("dry run: would replay 5", self.ok("dlq", "replay", DLQ, "--dry-run", "--again").stdout)
        self.assertEqual(sum(high_watermarks(self.broker.bootstrap, "orders").values()), 7)

        forced = self.ok("dlq", "replay", DLQ, "--again", "--key", "k2")
        self.assertIn("replayed 1, skipped 4 by filter", forced.stdout)
        self.assertIn("replayed 1", self.ok("dlq", "replay", DLQ, "--again", "--key", "k2").stdout)
        self.assertEqual(sum(high_watermarks(self.broker.bootstrap, "orders").values()), 9)

        # New dead letters after a replay are the only ones the next identical replay sends.
        produce(self.broker.bootstrap, DLQ, [(0, b"k9", b"{}", dead_letter_headers(
            "orders", 0, 20, "timeout", "kernel::TransientError", "slow", self.now))])
        self.assertIn("replayed 1, skipped 0 by filter, 5 already replayed", self.ok("dlq", "replay", DLQ).stdout)

    def test_replay_until_a_duration_ago_leaves_younger_dead_letters_for_a_later_run(self):
        soon = datetime.now(timezone.utc) + timedelta(seconds=4)  # too young for --until 1s until then
        produce(self.broker.bootstrap, DLQ, [
            (0, b"old-1", b"{}", dead_letter_headers("orders", 0, 1, "timeout", "T", "m", self.now - timedelta(hours=1))),
            (0, b"young", b"{}", dead_letter_headers("orders", 0, 2, "timeout", "T", "m", soon)),
            (0, b"old-2", b"{}", dead_letter_headers("orders", 0, 3, "timeout", "T", "m", self.now - timedelta(hours=1)))])
        first = self.ok("dlq", "replay", DLQ, "--until", "1s")
        self.assertIn("replayed 1, skipped 0 by filter, 0 already replayed, 2 newer than --until 1s left for later",
                      first.stdout)
        # Once the young one is old enough, the same command sends it and what waited behind it.
        kh.wait_for(lambda: datetime.now(timezone.utc) > soon + timedelta(seconds=1.5), 10, "the dead letter to age")
        later = self.ok("dlq", "replay", DLQ, "--until", "1s")
        self.assertIn("replayed 2, skipped 0 by filter, 1 already replayed", later.stdout)
        self.assertEqual([m.key() for m in read_all(self.broker.bootstrap, "orders")], [b"old-1", b"young", b"old-2"])

    def test_replay_to_another_topic_and_the_prefix_applies_to_typed_names_only(self):
        letters = self.seed(topic="team.dead", original="orders")
        to = self.ok("dlq", "replay", "dead", "--to", "target", "--key", "k2", KAFKA_TOPIC_PREFIX="team.")
        self.assertIn("replayed 1, skipped 4 by filter", to.stdout)
        self.assertIn("kernel-admin.dlq-replay.team.dead.team.target.", to.stdout)
        [message] = read_all(self.broker.bootstrap, "team.target")
        self.check_replayed(message, letters["b"], 1)
        # dlq-original-topic is a full name: no prefix is added to it.
        back = self.ok("dlq", "replay", "dead", "--reason", "processing_error", KAFKA_TOPIC_PREFIX="team.")
        self.assertIn("replayed 1", back.stdout)
        self.assertEqual(len(read_all(self.broker.bootstrap, "orders")), 1)
        self.assertEqual(sum(high_watermarks(self.broker.bootstrap, "team.orders").values()), 0)
        listed = self.ok("dlq", "list", "dead", "--json", KAFKA_TOPIC_PREFIX="team.").stdout.splitlines()
        self.assertEqual({json.loads(line)["topic"] for line in listed}, {"team.dead"})

    def test_missing_topics_are_one_line_errors_and_never_created(self):
        before = self.topics()
        for args in (["dlq", "list", "no.such.dlq"], ["dlq", "stats", "no.such.dlq"],
                     ["dlq", "replay", "no.such.dlq"], ["dlq", "replay", "no.such.dlq", "--dry-run"],
                     ["dlq", "replay", DLQ, "--to", "no.such.target"]):
            result = self.admin(*args)
            self.assertEqual(result.returncode, 69, (args, result.stdout, result.stderr))
            self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
            self.assertRegex(result.stderr, r"^kernel-admin: topic no\.such\.\w+ (\(--to\) )?does not exist on ")
        # A dead letter whose original topic is gone stops the replay, naming it and the way out.
        produce(self.broker.bootstrap, DLQ, [(0, b"k", b"{}", dead_letter_headers(
            "gone.topic", 0, 1, "timeout", "kernel::TransientError", "slow", self.now))])
        gone = self.admin("dlq", "replay", DLQ)
        self.assertEqual(gone.returncode, 69, gone.stderr)
        self.assertIn("the original topic gone.topic of it-kernel.dlq[0]@0 does not exist", gone.stderr)
        self.assertIn("--to", gone.stderr)
        self.assertEqual(self.topics(), before)

    def test_every_bad_argument_is_one_line_and_exit_64(self):
        for args, expected in (
                (["dlq", "list", DLQ, "--since", "yesterday"], "--since"),
                (["dlq", "list", DLQ, "--since", "2h30"], "--since"),
                (["dlq", "list", DLQ, "--since", "-2h"], "--since"),
                (["dlq", "list", DLQ, "--until", "2026-11-23T03:00:00"], "--until"),  # no zone
                (["dlq", "list", DLQ, "--until", "2026-13-45T03:00:00Z"], "--until"),
                (["dlq", "replay", DLQ, "--since", "99999999999999999999d"], "--since"),
                (["dlq", "list", DLQ, "--limit", "0"], "--limit"),
                (["dlq", "list", DLQ, "--limit", "-1"], "--limit"),
                (["dlq", "list", DLQ, "--limit", "ten"], "--limit"),
                (["dlq", "list", DLQ, "--limit", "99999999999999999999"], "--limit"),
                (["dlq", "list", DLQ, "--reason", "oops"], "--reason"),
                (["dlq", "replay", DLQ, "--reason", "Timeout"], "--reason"),
                (["dlq", "stats", "bad topic!"], "TOPIC"),
                (["dlq", "replay", DLQ, "--to", "a/b"], "--to"),
                (["dlq", "replay"], "TOPIC"),
                (["dlq", "list", DLQ, "--dry-run"], "--dry-run"),
                (["dlq", "purge", DLQ], "purge"),
                (["dlq"], "list, stats or replay")):
            result = self.admin(*args)
            self.assertEqual(result.returncode, 64, (args, result.stderr))
            lines = result.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, (args, result.stderr))
            self.assertIn("kernel-admin", lines[0])
            self.assertIn(expected, lines[0], args)
        reasons = self.admin("dlq", "list", DLQ, "--reason", "oops").stderr
        for name in ("deserialization_error", "validation_error", "processing_error", "retries_exhausted",
                     "output_failed", "timeout"):
            self.assertIn(name, reasons)

    def test_a_long_replay_shows_progress_on_a_terminal_only(self):
        produce(self.broker.bootstrap, DLQ, [(n % PARTITIONS, f"k{n}".encode(), b"{}", dead_letter_headers(
            "orders", 0, n, "timeout", "kernel::TransientError", "slow", self.now)) for n in range(2000)])
        controller, terminal = pty.openpty()
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "KERNEL_"))}
        environment["KAFKA_BOOTSTRAP_SERVERS"] = self.broker.bootstrap
        try:
            result = subprocess.run([KERNEL_ADMIN, "dlq", "replay", DLQ], env=environment, stdout=subprocess.PIPE,
                                    stderr=terminal, text=True, timeout=90, cwd=tempfile.gettempdir())
            os.close(terminal)
            terminal = None
            shown = b""
            while True:
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # the terminal is closed and drained
                    break
                if not chunk:
                    break
                shown += chunk
        finally:
            if terminal is not None:
                os.close(terminal)
            os.close(controller)
        self.assertEqual(result.returncode, 0)
        self.assertIn("replayed 2000, skipped 0 by filter, 0 already replayed", result.stdout)
        self.assertIn(b"\rkernel-admin: replaying it-kernel.dlq: read ", shown)
        self.assertEqual(sum(high_watermarks(self.broker.bootstrap, "orders").values()), 2000)
        piped = self.ok("dlq", "replay", DLQ, "--again")  # as long, on a pipe: no progress line
        self.assertIn("replayed 2000", piped.stdout)
        self.assertNotIn("replaying", piped.stderr)

    def test_a_kernels_dead_letters_replayed_back_fail_again_and_count_their_replays(self):
        kernel = kh.KernelProcess.on_broker(IT_KERNEL, self.broker.bootstrap, KAFKA_CONSUMER_GROUP="dlq-loop")
        self.addCleanup(kernel.close)
        kh.produce(self.broker.bootstrap, "it.in",
                   [(f"p{n}", json.dumps({"n": n, "fail": "permanent"})) for n in range(3)] +
                   [("ok", json.dumps({"n": 99}))])

        def dead_letters(count):
            def listed():
                lines = self.ok("dlq", "list", DLQ, "--json").stdout.splitlines()
                return lines if len(lines) >= count else None
            return kh.wait_for(listed, 60, f"{count} dead letters")
        first = [json.loads(line) for line in dead_letters(3)]
        self.assertEqual({r["headers"]["dlq-failure-reason"] for r in first}, {"processing_error"})
        self.assertEqual({r["headers"]["dlq-original-topic"] for r in first}, {"it.in"})
        self.assertIn("3 dead letters", self.ok("dlq", "stats", DLQ).stdout)

        self.assertIn("replayed 3", self.ok("dlq", "replay", DLQ, "--reason", "processing_error").stdout)
        second = [json.loads(line) for line in dead_letters(6)][-3:]
        self.assertEqual(sorted(r["headers"]["dlq-replay-count"] for r in second), ["1", "1", "1"])
        # The same command again sends only the new dead letters: 3 already replayed.
        again = self.ok("dlq", "replay", DLQ, "--reason", "processing_error")
        self.assertIn("replayed 3, skipped 0 by filter, 3 already replayed", again.stdout)
        third = [json.loads(line) for line in dead_letters(9)][-3:]
        self.assertEqual(sorted(r["headers"]["dlq-replay-count"] for r in third), ["2", "2", "2"])
        self.assertEqual(sorted(r["key"] for r in third), ["p0", "p1", "p2"])
        self.assertEqual(kernel.stop(), 0)

    def test_tls_against_a_plaintext_listener_exits_77_at_once(self):
        _, ca = kh.self_signed_certificate()
        started = time.monotonic()
        result = self.admin("--timeout", "8000", "dlq", "list", DLQ, KAFKA_CA_CERT=ca)
        self.assertEqual(result.returncode, 77, result.stderr)
        self.assertLess(time.monotonic() - started, 6)
        # Worded as every kernel-admin command and a kernel's start-up word it.
        self.assertIn(f"TLS handshake with {self.broker.bootstrap} failed", result.stderr)


if __name__ == "__main__":
    unittest.main()
