"""The Prometheus side: a cached read of the pairs, served or written as metrics.

prometheus_client does the formatting and the HTTP serving (imported here,
and this module only by the commands that need it, so `carpctl --help` never
loads it). A scrape does not read the firewalls by itself: reads go through
CachedReader, so the two Prometheus servers of an HA setup, or a person with
curl, cost one read per `max_age` seconds, however many scrape.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest, write_to_textfile
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from carpctl.core.metrics import PREFIX, Family, families
from carpctl.errors import UsageError
from carpctl.flows.status import PairStatus, status
from carpctl.inventory import Pair
from carpctl.runtime.session import Session

DEFAULT_LISTEN = "127.0.0.1:9732"


@dataclass(frozen=True)
class Reading:
    statuses: list[PairStatus]
    started: float          # Unix time
    duration: float         # seconds


def read(session: Session, pairs: list[Pair], parallel: int = 16) -> Reading:
    started, begun = time.time(), time.monotonic()
    results = status(session, pairs, parallel=parallel)
    return Reading(results, started, time.monotonic() - begun)


def reading_families(reading: Reading) -> list[Family]:
    return families(reading.statuses, duration=reading.duration, timestamp=reading.started)


class CachedReader:
    """One read serves every scrape for `max_age` seconds; a scrape that arrives
    while a read runs waits for that read instead of starting a second one."""

    def __init__(self, session: Session, pairs: list[Pair], *, max_age: float,
                 parallel: int = 16):
        self.session, self.pairs, self.max_age, self.parallel = session, pairs, max_age, parallel
        self.reads = 0
        self.scrapes = 0
        self._lock = threading.Lock()
        self._last: Reading | None = None
        self._taken = 0.0

    def get(self) -> tuple[Reading, float]:
        """The reading to serve and its age in seconds."""
        with self._lock:
            self.scrapes += 1
            age = time.monotonic() - self._taken
            if self._last is None or age >= self.max_age:
                self._last = read(self.session, self.pairs, self.parallel)
                self._taken, age = time.monotonic(), 0.0
                self.reads += 1
            return self._last, age


def to_prometheus(family: Family):
    kind = CounterMetricFamily if family.kind == "counter" else GaugeMetricFamily
    name = family.name.removesuffix("_total") if family.kind == "counter" else family.name
    metric = kind(name, family.help, labels=list(family.labels))
    for sample in family.samples:
        metric.add_metric([sample.labels[label] for label in family.labels], sample.value)
    return metric


class _Collector:
    """prometheus_client's collector protocol over our plain families."""

    def __init__(self, produce):
        self._produce = produce

    def collect(self):
        return [to_prometheus(f) for f in self._produce()]

    def describe(self):
        return []   # registering must not read the firewalls


def _registry(produce) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(produce))
    return registry


def exporter_registry(reader: CachedReader) -> CollectorRegistry:
    def produce() -> list[Family]:
        reading, age = reader.get()
        extra = [Family(name=PREFIX + "scrape_age_seconds", labels=(),
                        help="age of the read this scrape serves (reads are cached for --max-age)"),
                 Family(name=PREFIX + "reads_total", labels=(), kind="counter",
                        help="reads of the firewalls since the exporter started")]
        extra[0].add(age)
        extra[1].add(reader.reads)
        return reading_families(reading) + extra
    return _registry(produce)


def exposition(reading: Reading) -> bytes:
    """The text format, as node_exporter's textfile collector reads it."""
    return generate_latest(_registry(lambda: reading_families(reading)))


def write_textfile(path: str, reading: Reading) -> None:
    """Written beside and renamed into place, so the collector never reads half a file."""
    try:
        write_to_textfile(path, _registry(lambda: reading_families(reading)))
    except OSError as exc:
        raise UsageError(f"--output {path}: {exc.strerror}") from None


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT`, `[V6]:PORT` or `:PORT` (loopback); port 0 picks a free one."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise UsageError(f"--listen {text!r}: expected HOST:PORT, for example {DEFAULT_LISTEN}")
    host = host.removeprefix("[").removesuffix("]") or "127.0.0.1"
    if host != "localhost":
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise UsageError(f"--listen {text!r}: {host!r} is not an IP address") from None
    return host, int(port)


def serve(reader: CachedReader, listen: tuple[str, int]):
    """Start serving /metrics in background threads; the server (call .shutdown())."""
    from prometheus_client import start_http_server

    server, _ = start_http_server(listen[1], addr=listen[0], registry=exporter_registry(reader))
    return server


def served_address(server) -> str:
    host, port = server.server_address[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

