"""What the process-level tests share: kernel-dev-broker and kernel processes, and confluent-kafka
(a client no one here wrote) to write and read the topics. Loopback only; every wait is a
condition with a deadline.

A test puts this folder on its path, then imports the module:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness"))
    import kernel_harness as kh  # noqa: E402

Run such a test by hand from its folder, with the binaries its CMake entry names in the
environment (ctest --test-dir build -N -V shows them; a relative path is taken from the
folder the test runs in), e.g.:

    cd tests/runtime/integration
    IT_KERNEL=../../../build/tests/it-kernel DEV_BROKER=../../../build/runtime/kernel-dev-broker \\
        /usr/bin/python3 -m unittest -v test_process

The API (everything else here is private):

- wait_for(condition, timeout, what): polls `condition` until it returns something true, and
  returns that; an AssertionError naming `what` after `timeout` seconds.
- DevBroker(topics, partitions, binary=None, args=()): kernel-dev-broker (the binary in
  DEV_BROKER unless given); `.bootstrap` is its address; `.stop()` asserts it exits 0.
- clean_environment(**settings): this process's environment without KAFKA_* and KERNEL_*
  variables (the shell running the tests must not change them), plus `settings`.
- KernelProcess(binary, *args, env=None, cwd=None): a kernel (or a tool) as a process, its
  stderr collected line by line in `.lines`: `.log_contains(text)`, `.running()`,
  `.http_url()`, `.send_signal(sig)`, `.wait(timeout)`, `.stop(sig)`, `.close()`.
  KernelProcess.on_broker(binary, bootstrap, *args, cwd=None, **settings) starts one on a
  broker with BROKER_KERNEL_SETTINGS (info logs, 200 ms commits, no HTTP server).
- run_binary(binary, *args, env=None, cwd=None, timeout=60): runs one to completion
  (subprocess.CompletedProcess, text).
- produce(bootstrap, topic, records, per_second=None, check=True, **config): sends and waits
  for every acknowledgement; returns the failures by key.
- partitions_of, watermarks, committed(bootstrap, group, topic, ...): a topic's partitions, high
  watermarks and a group's committed offsets, by partition.
- TopicReader(bootstrap, topic, partitions=None): reads a topic from its start, outside any
  group: `.read_until(count, timeout)`, `.drain(quiet)`, `.close()`.
- read_topic(bootstrap, topic, partitions=None, timeout=60): every record up to the current
  high watermarks, in (partition, offset) order.
- free_port(), self_signed_certificate(directory=None, ...): a loopback port nothing listens
  on, and a key and certificate made with openssl.
- Prometheus(binary, workdir, targets, rules=None): a real Prometheus scraping kernels every
  second; query(expression), api(path, ...), stop().
"""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

# What KernelProcess.on_broker() sets unless a test says otherwise: logs a test can read,
# commits often enough to be waited for, and no HTTP server competing for port 8080.
BROKER_KERNEL_SETTINGS = {"KERNEL_LOG_LEVEL": "info", "KAFKA_CONSUMER_COMMIT_INTERVAL": "200ms",
                          "KERNEL_HTTP_PORT": "off"}


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)  # polling a condition, with a deadline
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class DevBroker:
    """kernel-dev-broker in a process of its own (it outlives the kernels a test kills); its
    first line on stdout names the bootstrap servers."""

    def __init__(self, topics=(), partitions=1, binary=None, args=()):
        command = [os.path.abspath(binary or os.environ["DEV_BROKER"]), "--partitions", str(partitions)]
        for topic in topics:
            command += ["--topic", topic]
        self.process = subprocess.Popen([*command, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True)
        line = self.process.stdout.readline().strip()
        if not line.startswith("KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:"):
            self.process.kill()
            self.process.wait()
            self.process.stdout.close()
            raise AssertionError(f"kernel-dev-broker said {line!r}")
        self.bootstrap = line.split("=", 1)[1]

    def stop(self, timeout=10):
        """Stops it with SIGTERM: a clean stop exits 0."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self.process.stdout.close()
        assert code == 0, f"kernel-dev-broker exited {code}"

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.stop()


def clean_environment(**settings):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "KERNEL_"))}
    environment.update({k: str(v) for k, v in settings.items()})
    return environment


class KernelProcess:
    """A kernel (or any binary) as a process, its stderr collected line by line as it comes
    (undecodable bytes replaced); stdout is discarded."""

    def __init__(self, binary, *args, env=None, cwd=None):
        self.process = subprocess.Popen([os.path.abspath(binary), *args],
                                        env=clean_environment() if env is None else env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                        errors="replace", cwd=cwd or tempfile.gettempdir())
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    @classmethod
    def on_broker(cls, binary, bootstrap, *args, cwd=None, **settings):
        """A kernel on `bootstrap` with BROKER_KERNEL_SETTINGS, then `settings`."""
        return cls(binary, *args, cwd=cwd,
                   env=clean_environment(KAFKA_BOOTSTRAP_SERVERS=bootstrap, **{**BROKER_KERNEL_SETTINGS, **settings}))

    def _read(self):
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def log_contains(self, text):
        return any(text in line for line in list(self.lines))

    def running(self):
        return self.process.poll() is None

    def http_url(self, timeout=30):
        """http://HOST:PORT of its health, metrics and admin server, once its log names it
        (KERNEL_HTTP_PORT=0 picks a free port); 127.0.0.1 where it listens on every interface."""
        def logged():
            for line in list(self.lines):
                match = re.search(r"health, metrics and admin on http://([^:]+):(\d+)", line)
                if match:
                    host = "127.0.0.1" if match.group(1) == "0.0.0.0" else match.group(1)
                    return f"http://{host}:{match.group(2)}"
            return None
        return wait_for(logged, timeout, "the kernel to log its HTTP address")

    def send_signal(self, sig=signal.SIGTERM):
        """Sends `sig` unless it has exited already."""
        if self.running():
            self.process.send_signal(sig)

    def wait(self, timeout=30):
        """Its exit code, once it has exited and its stderr is read to the end."""
        code = self.process.wait(timeout=timeout)
        self.reader.join(timeout=5)
        self.process.stderr.close()
        return code

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Sends `sig` (unless it has exited already) and returns its exit code."""
        self.send_signal(sig)
        return self.wait(timeout)

    def close(self):
        """Kills it if it still runs: for cleanups, which must not wait on a hung kernel."""
        if self.running():
            self.process.kill()
        self.wait(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()


def run_binary(binary, *args, env=None, cwd=None, timeout=60):
    return subprocess.run([os.path.abspath(binary), *args], env=clean_environment() if env is None else env,
                          capture_output=True, text=True, timeout=timeout, cwd=cwd or tempfile.gettempdir())


def produce(bootstrap, topic, records, per_second=None, check=True, **config):
    """Sends `records` to `topic` and waits for every acknowledgement. A record is (key, value),
    (key, value, headers), or a dict of Producer.produce() arguments (partition=..., ...). At most
    `per_second` a second when given: a stream rather than a backlog. `config` goes to the
    Producer (e.g. {"message.max.bytes": ...}). Returns the failures by key; with `check`, any
    failure is an AssertionError."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, **config})
    failed = {}
    started = time.monotonic()
    for sent, record in enumerate(records):
        if per_second and sent % 500 == 0:
            ahead = started + sent / per_second - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)  # pacing the stream, not a synchronisation
        arguments = record if isinstance(record, dict) else dict(zip(("key", "value", "headers"), record))
        key = arguments.get("key")
        while True:
            try:
                producer.produce(topic, **arguments,
                                 on_delivery=lambda err, _msg, key=key: err and failed.setdefault(key, err))
                break
            except BufferError:
                producer.poll(0.1)
            except KafkaException as error:  # refused before it is sent (e.g. too large)
                failed[key] = error.args[0]
                break
        producer.poll(0)
    assert producer.flush(60) == 0, f"records for {topic} still unsent after 60 s"
    assert not (check and failed), f"producing to {topic} failed: {failed}"
    return failed


def partitions_of(bootstrap, topic):
    """The partition numbers of `topic`, from the brokers' metadata (asked for every topic: a
    request naming one may create it)."""
    topics = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics
    assert topic in topics, f"no topic {topic} on {bootstrap}"
    return sorted(topics[topic].partitions)


def _partitions(bootstrap, topic, partitions):
    """`partitions` as a list: a count, the partitions themselves, or None for all of them."""
    if partitions is None:
        return partitions_of(bootstrap, topic)
    return list(range(partitions)) if isinstance(partitions, int) else list(partitions)


def watermarks(bootstrap, topic, partitions=None):
    """{partition: high watermark} of `topic`."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "test-watermarks"})
    try:
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in _partitions(bootstrap, topic, partitions)}
    finally:
        consumer.close()


def committed(bootstrap, group, topic, partitions=None):
    """{partition: offset} `group` has committed on `topic` (negative where it has none)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        offsets = consumer.committed([TopicPartition(topic, p) for p in _partitions(bootstrap, topic, partitions)],
                                     timeout=10)
        return {tp.partition: tp.offset for tp in offsets}
    finally:
        consumer.close()


class TopicReader:
    """Reads a topic from its start, outside any group, keeping what arrives in `.messages`."""

    def __init__(self, bootstrap, topic, partitions=None):
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "test-reader",
                                  "enable.auto.commit": False,
                                  # Records up to 1 MB and more: a fetch must hold at least one.
                                  "fetch.max.bytes": 4_000_000, "max.partition.fetch.bytes": 4_000_000})
        self.consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING)
                             for p in _partitions(bootstrap, topic, partitions)])
        self.messages = []

    def _consume(self):
        batch = [m for m in self.consumer.consume(500, 0.2) if not m.error()]
        self.messages.extend(batch)
        return batch

    def read_until(self, count, timeout):
        """Every message so far, once there are at least `count`."""
        def enough():
            self._consume()
            return len(self.messages) >= count
        wait_for(enough, timeout, f"{count} messages (have {len(self.messages)})")
        return self.messages

    def drain(self, quiet=1.0):
        """Every message so far, once nothing more has come for `quiet` seconds."""
        last = time.monotonic()
        while time.monotonic() - last < quiet:
            if self._consume():
                last = time.monotonic()
        return self.messages

    def close(self):
        self.consumer.close()

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()


def read_topic(bootstrap, topic, partitions=None, timeout=60):
    """Every record of `topic` from its start up to its high watermarks as they are now, in
    (partition, offset) order."""
    partitions = _partitions(bootstrap, topic, partitions)
    ends = watermarks(bootstrap, topic, partitions)
    with TopicReader(bootstrap, topic, partitions) as reader:
        def at_the_ends():
            reader._consume()
            reached = {}
            for message in reader.messages:
                reached[message.partition()] = max(reached.get(message.partition(), 0), message.offset() + 1)
            return all(reached.get(p, 0) >= end for p, end in ends.items())
        wait_for(at_the_ends, timeout, f"{sum(ends.values())} records of {topic} (have {len(reader.messages)})")
        return sorted(reader.messages, key=lambda m: (m.partition(), m.offset()))


def http(method, url, headers=None, timeout=5):
    """(status, body) of a request; (None, error) when nothing answers."""
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except (urllib.error.URLError, ConnectionError, socket.timeout) as error:
        return None, str(error)


class Prometheus:
    """A Prometheus (the binary at `binary`) on 127.0.0.1 scraping `targets` (host:port) every
    second, and evaluating the alerting rules in the file `rules`, if given, every second."""

    def __init__(self, binary, workdir, targets, rules=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = os.path.join(workdir, "prometheus.yml")
        with open(config, "w") as out:
            out.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
                      + (f"rule_files: ['{rules}']\n" if rules else "")
                      + f"scrape_configs:\n  - job_name: kernels\n    static_configs:\n      - targets: {list(targets)!r}\n")
        self.process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={workdir}/data",
             f"--web.listen-address=127.0.0.1:{self.port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def api(self, path, **parameters):
        """The `data` of an answer of the HTTP API; None while it does not answer."""
        status, body = http("GET", f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(parameters)}")
        if status != 200:
            return None
        return json.loads(body)["data"]

    def query(self, expression):
        data = self.api("query", query=expression)
        return data["result"] if data else []

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def free_port():
    """A loopback port nothing listens on (now)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed_certificate(directory=None, name="ca", common_name="some-ca", key_password=None):
    """A fresh EC key and a self-signed certificate for it, valid one day, as (key, certificate)
    PEM text; also written to NAME.key and NAME.pem in `directory` when given."""
    if directory is None:
        with tempfile.TemporaryDirectory() as scratch:
            return self_signed_certificate(scratch, name, common_name, key_password)
    protection = ["-passout", f"pass:{key_password}"] if key_password else ["-nodes"]
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    *protection, "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "1",
                    "-subj", f"/CN={common_name}"], cwd=directory, check=True, capture_output=True, timeout=30)
    with open(os.path.join(directory, f"{name}.key")) as key, open(os.path.join(directory, f"{name}.pem")) as cert:
        return key.read(), cert.read()
