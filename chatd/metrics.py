"""Metrics in the Prometheus text exposition format (version 0.0.4): the master keeps the
counters and histograms here and renders them, with the gauges it reads at scrape time, for
`GET /metrics` (chatd/processes/metrics_http.py). Pure: values come in, text goes out."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

# Seconds from sending rows to the writer to their commit: group commits take a few ms; an
# fsync on a slow disk, tens; a stalled disk, seconds.
COMMIT_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


@dataclass
class Histogram:
    buckets: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    observations: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * len(self.buckets)

    def observe(self, value: float) -> None:
        index = bisect.bisect_left(self.buckets, value)
        if index < len(self.counts):
            self.counts[index] += 1
        self.total += value
        self.observations += 1


@dataclass
class Counters:
    """What only the master's loop sees happen, counted since this run started."""
    events_stored: int = 0
    event_frames_relayed: int = 0  # committed events sent to workers to deliver
    connections_accepted: int = 0
    connections_refused: int = 0
    backpressure_pauses: int = 0
    restarts: dict[str, int] = field(default_factory=lambda: {"writer": 0, "worker": 0})
    commit_seconds: Histogram = field(default_factory=lambda: Histogram(COMMIT_BUCKETS_S))


class Exposition:
    """Builds one scrape's text: HELP and TYPE once per metric family, then its samples."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str,
               samples: list[tuple[dict[str, str], float]]) -> None:
        self._lines.append(f"# HELP {name} {help_text}")
        self._lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            self._lines.append(f"{name}{_labels(labels)} {_number(value)}")

    def single(self, name: str, kind: str, help_text: str, value: float) -> None:
        self.family(name, kind, help_text, [({}, value)])

    def histogram(self, name: str, help_text: str, histogram: Histogram) -> None:
        self._lines.append(f"# HELP {name} {help_text}")
        self._lines.append(f"# TYPE {name} histogram")
        running = 0
        for bound, count in zip(histogram.buckets, histogram.counts):
            running += count
            self._lines.append(f'{name}_bucket{{le="{_number(bound)}"}} {running}')
        self._lines.append(f'{name}_bucket{{le="+Inf"}} {histogram.observations}')
        self._lines.append(f"{name}_sum {_number(histogram.total)}")
        self._lines.append(f"{name}_count {histogram.observations}")

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items())
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class CommitClock:
    """Times each batch of rows from its hand-off to the writer to the commit that covers it."""

    def __init__(self, histogram: Histogram) -> None:
        self.histogram = histogram
        self._pending: list[tuple[int, float]] = []  # (highest id of a batch, when sent)

    def sent(self, highest_id: int, now: float) -> None:
        self._pending.append((highest_id, now))

    def committed(self, up_to_id: int, now: float) -> None:
        done = 0
        for highest, sent_at in self._pending:
            if highest > up_to_id:
                break
            self.histogram.observe(now - sent_at)
            done += 1
        del self._pending[:done]

    def forget(self) -> None:
        """The writer was replaced: its successor is sent the rows again."""
        self._pending.clear()
